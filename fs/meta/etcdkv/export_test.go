package etcdkv

// SetCommitFault makes commits fail in transit (see commitFault); nil
// stops it.
func SetCommitFault(f func(before bool) error) { commitFault = f }
