package gitprotect

import (
	"path"
	"strings"
)

// A rule marks config entries of one section as able to run code. The
// subsection is never looked at: `[core "x"] fsmonitor` is harmless to git,
// but refusing it costs nothing and spares a reader the question.
type rule struct {
	section string // lowercased
	name    string // path.Match pattern on the lowercased name
	when    func(value string) bool
}

// runsCodeRules lists every setting through which git, or a program git
// starts, runs a command or reads configuration from somewhere else, and
// the few that point git's fetches or its reading of files elsewhere.
var runsCodeRules = []rule{
	// core: commands git runs itself (fsmonitor on every status, editor,
	// pager, ssh and proxy commands, askpass), hooks from another place,
	// and a work tree elsewhere (git then writes outside the workdir).
	{section: "core", name: "fsmonitor"},
	{section: "core", name: "hookspath"},
	{section: "core", name: "sshcommand"},
	{section: "core", name: "editor"},
	{section: "core", name: "pager"},
	{section: "core", name: "askpass"},
	{section: "core", name: "gitproxy"},
	{section: "core", name: "alternaterefscommand"},
	{section: "core", name: "worktree"},
	{section: "sequence", name: "editor"},
	// Includes read config from any file, which brings any other key here.
	{section: "include", name: "*"},
	{section: "includeif", name: "*"},
	// Filter drivers run on checkout, add and status (clean, smudge, process).
	{section: "filter", name: "*"},
	// Diff and merge drivers and tools run on diff, log -p, merge, blame.
	{section: "diff", name: "textconv"},
	{section: "diff", name: "command"},
	{section: "diff", name: "external"},
	{section: "merge", name: "driver"},
	{section: "mergetool", name: "cmd"},
	{section: "mergetool", name: "path"}, // the program run for a built-in tool
	{section: "difftool", name: "cmd"},
	{section: "difftool", name: "path"},
	{section: "interactive", name: "difffilter"},
	// Credential helpers run on every fetch and push.
	{section: "credential", name: "*"},
	// Aliases: `!` runs a shell, and even a plain alias can run one
	// (`submodule foreach`, `rebase --exec`, `bisect run`) under a name the
	// user types every day, so no alias change goes through.
	{section: "alias", name: "*"},
	// pager.<cmd> names a pager program.
	{section: "pager", name: "*"},
	// Signing and verification programs.
	{section: "gpg", name: "program"},
	{section: "gpg", name: "defaultkeycommand"},
	// Transports: ssh flavour, protocols allowed (ext:: runs a command),
	// URL rewriting that can route a remote to ext::, remote-side programs
	// and remote helpers.
	{section: "ssh", name: "variant"},
	{section: "protocol", name: "allow"},
	{section: "url", name: "insteadof"},
	{section: "url", name: "pushinsteadof"},
	{section: "remote", name: "uploadpack"},
	{section: "remote", name: "receivepack"},
	{section: "remote", name: "vcs"},
	{section: "uploadpack", name: "packobjectshook"},
	// `update = !cmd` runs cmd on `git submodule update`; only git's own
	// strategies go through.
	{section: "submodule", name: "update", when: notBuiltinUpdate},
	// Commands of archive, interpret-trailers, send-email, imap-send,
	// instaweb, help and the GUI tools.
	{section: "tar", name: "command"},
	{section: "trailer", name: "command"},
	{section: "trailer", name: "cmd"},
	{section: "sendemail", name: "*cmd"},
	{section: "sendemail", name: "smtpserver"}, // an absolute path is run as sendmail
	{section: "imap", name: "tunnel"},
	{section: "instaweb", name: "httpd"},
	{section: "instaweb", name: "browser"},
	{section: "web", name: "browser"},
	{section: "browser", name: "cmd"},
	{section: "browser", name: "path"},
	{section: "man", name: "cmd"},
	{section: "man", name: "path"},
	{section: "guitool", name: "cmd"},
	// Config-based hooks: hook.<name>.command, and the events that run it.
	{section: "hook", name: "*"},
	{section: "fsmonitor", name: "*"},
	// Templates (hooks included) copied by `git init` in this repository.
	{section: "init", name: "templatedir"},
	// git-lfs, often installed: transfer agents and extensions it runs.
	{section: "lfs", name: "path"},
	{section: "lfs", name: "standalonetransferagent"},
	{section: "lfs", name: "clean"},
	{section: "lfs", name: "smudge"},
	// Where fetches and pulls come from: a remote, a branch's upstream or
	// a submodule moved to a repository the command made feeds its
	// commits (and any repository they name) into the next pull or
	// submodule update.
	{section: "remote", name: "url"},
	{section: "remote", name: "pushurl"},
	{section: "remote", name: "pushdefault"},
	{section: "branch", name: "remote"},
	{section: "branch", name: "pushremote"},
	{section: "submodule", name: "url"},
	// Files git reads on the host, beyond the sandbox's view: a commit
	// template becomes the message of the next commit (a hidden key
	// there ends up in history), a cookie file is sent to servers.
	{section: "commit", name: "template"},
	{section: "http", name: "cookiefile"},
}

// RunsCode reports whether e can make git, or a tool git starts, run a
// program or read configuration from elsewhere.
func RunsCode(e Entry) bool {
	for _, r := range runsCodeRules {
		if r.section != e.Section {
			continue
		}
		if ok, _ := path.Match(r.name, e.Name); !ok {
			continue
		}
		if r.when == nil || r.when(e.Value) {
			return true
		}
	}
	return false
}

func notBuiltinUpdate(value string) bool {
	switch strings.TrimSpace(value) {
	case "checkout", "rebase", "merge", "none":
		return false
	}
	return true
}
