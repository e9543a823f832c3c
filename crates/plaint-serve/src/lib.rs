//! `plaint serve`: the engine as an HTTP/JSON service (being built in W2 5/7).
