package nfsgw

import (
	"context"
	"errors"
	"syscall"

	nfs "github.com/willscott/go-nfs"
)

// errTooSmall answers a READDIR whose reply can't hold one entry.
var errTooSmall = errors.New("reply size too small for one entry")

// nfsStatus maps an error of the filesystem core (wrapping a
// syscall.Errno) or of the gateway to an nfsstat3. It is the only place
// where that mapping lives; MOUNT statuses are derived from it.
func nfsStatus(err error) nfs.NFSStatus {
	if err == nil {
		return nfs.NFSStatusOk
	}
	switch {
	case errors.Is(err, errBadHandle):
		return nfs.NFSStatusBadHandle
	case errors.Is(err, errBadType):
		return nfs.NFSStatusBadType
	case errors.Is(err, errTooSmall):
		return nfs.NFSStatusTooSmall
	}
	// An errno says what happened (the fs core reports a store that did
	// not answer in time as EIO); a bare deadline is the gateway's own.
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
	case errors.Is(err, context.DeadlineExceeded):
		// The client should retry later rather than fail the call.
		return nfs.NFSStatusJukebox
	default:
		return nfs.NFSStatusServerFault
	}
	switch errno {
	case syscall.EPERM:
		return nfs.NFSStatusPerm
	case syscall.ENOENT:
		return nfs.NFSStatusNoEnt
	case syscall.EIO:
		return nfs.NFSStatusIO
	case syscall.ENXIO:
		return nfs.NFSStatusNXIO
	case syscall.EACCES:
		return nfs.NFSStatusAccess
	case syscall.EEXIST:
		return nfs.NFSStatusExist
	case syscall.EXDEV:
		return nfs.NFSStatusXDev
	case syscall.ENODEV:
		return nfs.NFSStatusNoDev
	case syscall.ENOTDIR:
		return nfs.NFSStatusNotDir
	case syscall.EISDIR:
		return nfs.NFSStatusIsDir
	case syscall.EINVAL, syscall.ERANGE:
		return nfs.NFSStatusInval
	case syscall.EFBIG:
		return nfs.NFSStatusFBig
	case syscall.ENOSPC:
		return nfs.NFSStatusNoSPC
	case syscall.EROFS:
		return nfs.NFSStatusROFS
	case syscall.EMLINK:
		return nfs.NFSStatusMlink
	case syscall.ENAMETOOLONG:
		return nfs.NFSStatusNameTooLong
	case syscall.ENOTEMPTY:
		return nfs.NFSStatusNotEmpty
	case syscall.EDQUOT:
		return nfs.NFSStatusDQuot
	case syscall.ESTALE:
		return nfs.NFSStatusStale
	case syscall.EOPNOTSUPP:
		return nfs.NFSStatusNotSupp
	case syscall.EAGAIN, syscall.EBUSY:
		return nfs.NFSStatusJukebox
	}
	return nfs.NFSStatusServerFault
}

// mountStatus maps an error to a mountstat3, which shares the values of
// nfsstat3 that MOUNT defines and folds the others into SERVERFAULT.
func mountStatus(err error) nfs.MountStatus {
	switch st := nfsStatus(err); st {
	case nfs.NFSStatusOk, nfs.NFSStatusPerm, nfs.NFSStatusNoEnt, nfs.NFSStatusIO,
		nfs.NFSStatusAccess, nfs.NFSStatusNotDir, nfs.NFSStatusInval,
		nfs.NFSStatusNameTooLong, nfs.NFSStatusNotSupp:
		return nfs.MountStatus(st)
	}
	return nfs.MountStatusErrServerFault
}

// statusName is a short label for metrics and logs.
func statusName(st nfs.NFSStatus) string {
	if name, ok := statusNames[st]; ok {
		return name
	}
	return "OTHER"
}

var statusNames = map[nfs.NFSStatus]string{
	nfs.NFSStatusOk: "OK", nfs.NFSStatusPerm: "PERM", nfs.NFSStatusNoEnt: "NOENT",
	nfs.NFSStatusIO: "IO", nfs.NFSStatusNXIO: "NXIO", nfs.NFSStatusAccess: "ACCES",
	nfs.NFSStatusExist: "EXIST", nfs.NFSStatusXDev: "XDEV", nfs.NFSStatusNoDev: "NODEV",
	nfs.NFSStatusNotDir: "NOTDIR", nfs.NFSStatusIsDir: "ISDIR", nfs.NFSStatusInval: "INVAL",
	nfs.NFSStatusFBig: "FBIG", nfs.NFSStatusNoSPC: "NOSPC", nfs.NFSStatusROFS: "ROFS",
	nfs.NFSStatusMlink: "MLINK", nfs.NFSStatusNameTooLong: "NAMETOOLONG",
	nfs.NFSStatusNotEmpty: "NOTEMPTY", nfs.NFSStatusDQuot: "DQUOT", nfs.NFSStatusStale: "STALE",
	nfs.NFSStatusBadHandle: "BADHANDLE", nfs.NFSStatusNotSync: "NOT_SYNC",
	nfs.NFSStatusBadCookie: "BAD_COOKIE", nfs.NFSStatusNotSupp: "NOTSUPP",
	nfs.NFSStatusTooSmall: "TOOSMALL", nfs.NFSStatusServerFault: "SERVERFAULT",
	nfs.NFSStatusBadType: "BADTYPE", nfs.NFSStatusJukebox: "JUKEBOX",
}
