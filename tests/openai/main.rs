//! OpenAI-compatible models against a local scripted HTTP server: wire
//! format both ways, streaming, and every fault a real server produces.

mod body;
mod chat;
mod faults;
mod hostile;
mod layers;
mod refusal;
mod responses;
mod server;
