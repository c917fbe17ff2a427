"""The chain side of Huddle: backends that read the chain and broadcast, and the regtest sandbox."""
