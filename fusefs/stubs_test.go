package fusefs

func crashChild() error { return nil }
func permChild() error  { return nil }
