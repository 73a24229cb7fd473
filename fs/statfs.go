package fs

import (
	"context"
	"syscall"
)

// StatFS describes a volume's capacity, in BlockSize units.
type StatFS struct {
	BlockSize  uint32
	Blocks     uint64
	BlocksFree uint64
	Files      uint64
	FilesFree  uint64
	NameMaxLen uint32
	UsedBytes  uint64
	QuotaBytes uint64 // 0: no quota
}

// statBlock is the block size statfs reports.
const statBlock = 4096

// unlimited is what statfs reports as the size of a volume without quota
// (1 PiB): clients need a number, and df shows the real usage beside it.
const unlimited = 1 << 50

// StatFS reports the volume's capacity: its quota, or a large nominal
// size when it has none, and its usage.
func (v *Volume) StatFS(ctx context.Context) (StatFS, error) {
	u, err := v.Usage(ctx)
	if err != nil {
		return StatFS{}, err
	}
	quota := v.Info().Quota
	total := quota
	if total == 0 {
		total = unlimited
	}
	used := min(u.Bytes, total)
	const maxFiles = 1 << 32
	return StatFS{
		BlockSize:  statBlock,
		Blocks:     total / statBlock,
		BlocksFree: (total - used) / statBlock,
		Files:      maxFiles,
		FilesFree:  maxFiles - min(u.Inodes, maxFiles),
		NameMaxLen: MaxNameLen,
		UsedBytes:  u.Bytes,
		QuotaBytes: quota,
	}, nil
}

// Access checks c's permissions on ino for mask (MayRead|MayWrite|MayExec).
func (v *Volume) Access(ctx context.Context, c *Caller, ino Ino, mask uint32) error {
	a, err := v.GetAttr(ctx, ino)
	if err != nil {
		return err
	}
	if mask == 0 {
		return nil
	}
	if err := c.may(&a, mask); err != nil {
		return syscall.EACCES
	}
	return nil
}
