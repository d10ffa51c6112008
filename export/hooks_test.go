package export

// SetCrashHook installs f as the publication's crash hook: it is called at
// the named moments of DirSink and BlobSink publications ("committed
// GEN/toplist.jsonl", "before manifest", "after manifest", "removed …").
// The crash-consistency tests (package export_test) kill the process there.
func SetCrashHook(f func(point string)) { crashHook = f }
