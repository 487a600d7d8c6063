//! Client connections before hyper reads them: the framing guard (ambiguous HTTP/1
//! heads refused) and the limits on what clients may hold (connections, idle and
//! header timeouts).

pub(crate) mod framing;
pub(crate) mod limits;
