"""ingress-sip: the SIP B2BUA at the edge of Hotline (see services/ingress-sip/README.md)."""
