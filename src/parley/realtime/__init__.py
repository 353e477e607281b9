"""The WebSocket gateway: frames in, frames out, one bounded queue per connection."""
