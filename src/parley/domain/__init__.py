"""The rules of Parley: accounts, rooms, messaging, presence. No HTTP, no SQL."""
