"""Use cases of ingress-sip over ports: the SIP transaction layer and the call handling."""
