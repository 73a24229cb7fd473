package fusefs

import "github.com/hanwen/go-fuse/v2/fuse"

// osCapabilities are the FUSE capabilities asked of this kernel. fs clears
// set-user-ID and set-group-ID itself on write, truncate and chown;
// without CAP_HANDLE_KILLPRIV_V2 the kernel would do it with a SETATTR
// from the writer, which fs refuses to non-owners.
const osCapabilities = fuse.CAP_HANDLE_KILLPRIV_V2
