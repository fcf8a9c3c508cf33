//! Metadata sources. One module per collector; only `request` (a plain URL, long-polled
//! when the server supports it) exists so far.

pub mod request;
