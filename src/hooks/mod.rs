//! Framework hooks: a framework-neutral [controller](controller) that owns one
//! reconnecting connection per component, and the Yew and Leptos hooks on top of it.

pub(crate) mod controller;
#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(feature = "yew")]
pub mod yew;
