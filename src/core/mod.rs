//! The connection core: the state every socket keeps, whatever carries it, and the
//! [`Transport`](transport::Transport) trait it drives. It names no concrete transport.

pub(crate) mod connection;
pub(crate) mod keepalive;
pub(crate) mod queue;
pub(crate) mod sync;
pub(crate) mod transport;
pub(crate) mod waker;
