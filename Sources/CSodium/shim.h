// libsodium (Debian: libsodium-dev): ChaCha20-Poly1305 (IETF, RFC 8439) on raw buffers for the
// frame codec, without the per-frame copies swift-crypto's Data-based API makes (issue 15).
#include <sodium.h>
