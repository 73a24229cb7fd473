//go:build !linux

package fusefs

// osCapabilities is empty: CAP_HANDLE_KILLPRIV_V2 is a Linux FUSE
// capability that macFUSE lacks, so there the kernel clears set-user-ID
// and set-group-ID bits itself.
const osCapabilities = 0
