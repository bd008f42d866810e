//! The connection core: the state every socket keeps, whatever carries it, and the
//! [`Transport`](connection::Transport) trait it drives. It names no concrete transport.

pub(crate) mod connection;
pub(crate) mod keepalive;
pub(crate) mod queue;
