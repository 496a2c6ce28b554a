//! Every port of the domain, in memory (feature `testing`): the use cases' own tests run against
//! these in milliseconds; the black-box tests prove the real adapters behave the same.
