//! The byte stream every check talks over, whatever carried it (direct TCP, a proxy tunnel).

use tokio::io::{AsyncRead, AsyncWrite};

/// A bidirectional byte stream.
pub trait AsyncIo: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncIo for T {}

/// A boxed stream, so a proxy tunnel and a plain socket look the same to TLS and HTTP.
pub type Io = Box<dyn AsyncIo>;
