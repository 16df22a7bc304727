"""Market data: L2 deltas and snapshots, the ITCH 5.0 codec, MoldUDP64 framing and the book
builders that rebuild a book from either stream."""
