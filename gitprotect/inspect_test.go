//go:build linux

package gitprotect

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestInspect(t *testing.T) {
	w, outside, home := t.TempDir(), t.TempDir(), t.TempDir()
	writeTree(t, w, map[string]string{
		".git/objects/":             "",
		".git/config":               "[core]\n\thooksPath = tools/hooks\n\thooksPath = /elsewhere\n",
		".gitmodules":               "[submodule \"a\"]\n\tpath = sub/a\n[submodule \"b\"]\n\tpath = ../escape\n[submodule \"c\"]\n\tpath = sub/../c\n[submodule \"l\"]\n\tpath = linked\n[submodule \"f\"]\n\tpath = filed\n",
		"sub/a/.git/config":         "[core]\nhooksPath = ~/hooks\n",
		"filed/.git":                "gitdir: ../.git/modules/filed\n",
		".git/modules/filed/config": "[core]\nhooksPath = h\n",
		"c/.git/":                   "",
	})
	writeTree(t, outside, map[string]string{"hooks/": "", "sub/.git/": ""})
	if err := os.Symlink(filepath.Join(outside, "hooks"), filepath.Join(w, ".git/hooks")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(w, "linked")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, outside, map[string]string{"linked/.git/": ""})

	repo, err := Inspect(w, home)
	if err != nil {
		t.Fatal(err)
	}
	wantDirs := []string{filepath.Join(w, ".git"), filepath.Join(w, "sub/a/.git")}
	if !reflect.DeepEqual(repo.GitDirs, wantDirs) {
		t.Errorf("GitDirs = %q, want %q", repo.GitDirs, wantDirs)
	}
	// Neither hooks directory exists yet: the top-most missing part of
	// each (tools, as tools/hooks lacks it too) is moved aside if the
	// command makes it.
	wantHooks := []string{filepath.Join(w, "tools"), filepath.Join(w, "filed/h")}
	if len(repo.HooksPaths) != 0 || !reflect.DeepEqual(repo.MissingTrusted, wantHooks) {
		t.Errorf("HooksPaths = %q, MissingTrusted = %q, want none and %q", repo.HooksPaths, repo.MissingTrusted, wantHooks)
	}
	if want := []string{filepath.Join(w, "filed/.git")}; !reflect.DeepEqual(repo.GitFiles, want) {
		t.Errorf("GitFiles = %q, want %q", repo.GitFiles, want)
	}
	wantLinks := []string{filepath.Join(w, ".git/hooks"), filepath.Join(w, "linked/.git")}
	if !reflect.DeepEqual(repo.Symlinked, wantLinks) {
		t.Errorf("Symlinked = %q, want %q", repo.Symlinked, wantLinks)
	}
}

func TestInspectGitFile(t *testing.T) {
	w, outside := t.TempDir(), t.TempDir()
	writeTree(t, w, map[string]string{".git": "gitdir: store/repo.git\n", "store/repo.git/HEAD": "x"})
	repo, err := Inspect(w, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(w, "store/repo.git")}; !reflect.DeepEqual(repo.GitDirs, want) {
		t.Errorf("GitDirs = %q, want %q", repo.GitDirs, want)
	}
	if want := []string{filepath.Join(w, ".git")}; !reflect.DeepEqual(repo.GitFiles, want) {
		t.Errorf("GitFiles = %q, want %q", repo.GitFiles, want)
	}

	// A target outside the workdir is out of the command's reach.
	writeTree(t, outside, map[string]string{"g/": ""})
	writeTree(t, w, map[string]string{".git": "gitdir: " + filepath.Join(outside, "g") + "\n"})
	if repo, err = Inspect(w, ""); err != nil || len(repo.GitDirs) != 0 {
		t.Errorf("outside target: %+v, %v", repo, err)
	}

	// A target inside reached through a symlink is not a git dir to bind.
	if err := os.Symlink(filepath.Join(outside, "g"), filepath.Join(w, "via")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, w, map[string]string{".git": "gitdir: via\n"})
	repo, err = Inspect(w, "")
	if err != nil || len(repo.GitDirs) != 0 || !reflect.DeepEqual(repo.Symlinked, []string{filepath.Join(w, "via")}) {
		t.Errorf("symlinked target: %+v, %v", repo, err)
	}
}

func TestInspectUnparseableConfigFails(t *testing.T) {
	w := t.TempDir()
	writeTree(t, w, map[string]string{".git/config": "[core]\nhooksPath = \"x\n"})
	if _, err := Inspect(w, ""); err == nil {
		t.Error("Inspect accepted a config it cannot read")
	}
}

func TestInspectUnpopulatedSubmodules(t *testing.T) {
	w := t.TempDir()
	writeTree(t, w, map[string]string{
		".git/objects/":  "",
		".gitmodules":    "[submodule \"e\"]\n\tpath = empty\n[submodule \"m\"]\n\tpath = missing\n[submodule \"p\"]\n\tpath = populated\n",
		"empty/":         "",
		"populated/.git": "gitdir: ../.git/modules/p\n",
	})
	repo, err := Inspect(w, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(w, "empty"), filepath.Join(w, "missing")}
	if !reflect.DeepEqual(repo.Unpopulated, want) {
		t.Errorf("Unpopulated = %q, want %q", repo.Unpopulated, want)
	}
}

func TestInspectTrustedPaths(t *testing.T) {
	w := t.TempDir()
	writeTree(t, w, map[string]string{
		".git/config": "[include]\n\tpath = ../shared.cfg\n\tpath = local.cfg\n[core]\n\tfsmonitor = \"tools/fsmon\" --x\n\thooksPath = .husky\n" +
			"[alias]\n\tb = !scripts/build.sh\n[remote \"o\"]\n\turl = ../up.git\n[credential]\n\thelper = store\n",
		".git/worktrees/wt/gitdir": filepath.Join(w, "wt/.git") + "\n",
		"shared.cfg":               "[user]\n",
		"tools/fsmon":              "#!/bin/sh\n",
		"scripts/build.sh":         "#!/bin/sh\n",
		".husky/":                  "",
		"wt/.husky/":               "",
		"up.git/":                  "",
	})
	repo, err := Inspect(w, "")
	if err != nil {
		t.Fatal(err)
	}
	wantTrusted := []string{filepath.Join(w, "shared.cfg"), filepath.Join(w, "tools/fsmon"), filepath.Join(w, "scripts/build.sh")}
	if !reflect.DeepEqual(repo.Trusted, wantTrusted) {
		t.Errorf("Trusted = %q, want %q (a remote's repository is not a program)", repo.Trusted, wantTrusted)
	}
	if want := []string{filepath.Join(w, ".husky"), filepath.Join(w, "wt/.husky")}; !reflect.DeepEqual(repo.HooksPaths, want) {
		t.Errorf("HooksPaths = %q, want %q (the linked worktree's too)", repo.HooksPaths, want)
	}
	if want := map[string][]string{filepath.Join(w, ".git"): {"local.cfg"}}; !reflect.DeepEqual(repo.KeepHost, want) {
		t.Errorf("KeepHost = %v, want %v", repo.KeepHost, want)
	}
}

// TestInspectHooksPathLinks: a hooks path that is a symlink is kept as a
// link, whether it leads outside the workdir or loops; it is never listed
// to be moved aside, and a loop does not hang the inspection.
func TestInspectHooksPathLinks(t *testing.T) {
	for _, target := range []string{"/usr/share/git-hooks", "loop"} {
		w := t.TempDir()
		writeTree(t, w, map[string]string{".git/config": "[core]\n\thooksPath = loop\n"})
		if err := os.Symlink(target, filepath.Join(w, "loop")); err != nil {
			t.Fatal(err)
		}
		repo, err := Inspect(w, "")
		if err != nil {
			t.Fatal(err)
		}
		if repo.KeptLinks[filepath.Join(w, "loop")] != target {
			t.Errorf("link to %s: KeptLinks = %v", target, repo.KeptLinks)
		}
		for _, p := range repo.MissingTrusted {
			if p == filepath.Join(w, "loop") {
				t.Errorf("link to %s listed to be moved aside", target)
			}
		}
	}
}
