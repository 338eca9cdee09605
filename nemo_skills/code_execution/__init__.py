"""Code-execution sandbox: an HTTP service that runs untrusted programs isolated, and its async client."""
