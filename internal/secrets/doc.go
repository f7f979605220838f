// Package secrets generates and rotates everything a secured cluster needs:
// a private certificate authority, TLS certificates for the NATS server and
// the coordinators, a client certificate and an nkey per role, and the NATS
// server configuration that grants each role its subjects.
//
// Guarantees: every file is written mode 0600 inside a 0700 directory; a
// new generation is written whole into a staging directory before it
// replaces anything, so a failure to write leaves the current one as it
// was; an existing set is never overwritten without force.
// Each role's NATS permissions are derived from proto.APIAccess and
// proto.Buckets, so a new verb or bucket is classified once.
//
// Rotation keeps the cluster up: Rotate makes a new generation and keeps the
// previous one under previous/; until Finish, the server accepts both
// generations' nkeys and client certificates and keeps presenting the old
// server certificate, which both the old and the new trust bundle verify.
package secrets
