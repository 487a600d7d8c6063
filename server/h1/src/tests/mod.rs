//! Unit tests: the head parser (`head.rs`) and the body decoders (`chunked.rs`), each
//! rule with the inputs that show it; every input is also fed in every split, one
//! byte at a time, to check that the result does not depend on how it arrives.

mod chunked;
mod head;
