"""Live signing ceremonies (a later issue): the session state machine, typed
events, signature intake and presence. Core: no Flask or Socket.IO here."""
