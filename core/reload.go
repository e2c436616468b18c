package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ReloadOptions turn a Supervisor into a development server: when a file
// under Paths changes, every worker is stopped gracefully and started
// again, and a worker that fails to start (a syntax error in the user's
// code) does not end supervision: the supervisor waits for the next change.
type ReloadOptions struct {
	Paths    []string // files, or directories watched with everything below them
	Patterns []string // base-name globs ("*.py") a changed file must match; none: any file
}

// reloadSettle is how long the watcher waits after a change for the rest of
// an editor's burst of writes (save = truncate + write + rename) before it
// restarts the workers once.
const reloadSettle = 100 * time.Millisecond

// skippedDir reports directories a reload never watches: version control,
// virtualenvs, caches and installed packages change without the user
// editing anything.
func skippedDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules"
}

// fileWatcher reports changes under ReloadOptions.Paths.
type fileWatcher struct {
	w        *fsnotify.Watcher
	patterns []string
	changed  func(path string)
	done     chan struct{}
}

// watchFiles starts watching opts.Paths; changed is called (on the
// watcher's goroutine) with each changed file that matches opts.Patterns.
func watchFiles(opts ReloadOptions, changed func(path string)) (*fileWatcher, error) {
	if len(opts.Paths) == 0 {
		return nil, errors.New("spikard: reload: no path to watch")
	}
	for _, p := range opts.Patterns {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("spikard: reload: pattern %q: %w", p, err)
		}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("spikard: reload: %w", err)
	}
	fw := &fileWatcher{w: w, patterns: opts.Patterns, changed: changed, done: make(chan struct{})}
	for _, p := range opts.Paths {
		if err := fw.add(p); err != nil {
			w.Close()
			return nil, err
		}
	}
	go fw.run()
	return fw, nil
}

// add watches path: a file itself, a directory with every directory below
// it (fsnotify watches one directory level).
func (fw *fileWatcher) add(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("spikard: reload: %w", err)
	}
	if !info.IsDir() {
		return fw.w.Add(path)
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // a file, or a directory that vanished or cannot be read
		}
		if p != path && skippedDir(d.Name()) {
			return filepath.SkipDir
		}
		if err := fw.w.Add(p); err != nil {
			return fmt.Errorf("spikard: reload: watch %s: %w", p, err)
		}
		return nil
	})
}

func (fw *fileWatcher) run() {
	defer close(fw.done)
	for {
		select {
		case ev, ok := <-fw.w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(ev.Name); err == nil && info.IsDir() && !skippedDir(filepath.Base(ev.Name)) {
					_ = fw.add(ev.Name) // a new package: its files count from now on
					continue
				}
			}
			if ev.Op == fsnotify.Chmod || !fw.matches(ev.Name) {
				continue
			}
			fw.changed(ev.Name)
		case _, ok := <-fw.w.Errors:
			if !ok {
				return
			}
		}
	}
}

func (fw *fileWatcher) matches(path string) bool {
	if len(fw.patterns) == 0 {
		return true
	}
	base := filepath.Base(path)
	for _, p := range fw.patterns {
		if ok, _ := filepath.Match(p, base); ok {
			return true
		}
	}
	return false
}

// close stops watching and waits for the watcher's goroutine.
func (fw *fileWatcher) close() {
	fw.w.Close()
	<-fw.done
}
