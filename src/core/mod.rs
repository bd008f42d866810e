//! The connection core: the state every socket keeps, whatever carries it.

pub(crate) mod keepalive;
pub(crate) mod waker;
