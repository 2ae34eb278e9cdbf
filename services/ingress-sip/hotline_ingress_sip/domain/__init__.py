"""Pure domain of ingress-sip: SIP messages, transactions and dialogs, the call state machine
and the facts it produces. Imports nothing from Kafka, gRPC or protobuf."""
