package gitprotect

import "testing"

func TestRunsCode(t *testing.T) {
	cases := []struct {
		config string
		want   bool
	}{
		{"[core]\nfsmonitor = evil", true},
		{"[remote \"origin\"]\nurl = /tmp/evil.git", true},
		{"[remote \"origin\"]\npushurl = /tmp/evil.git", true},
		{"[remote \"origin\"]\nfetch = +refs/heads/*:refs/remotes/origin/*", false},
		{"[branch \"main\"]\nremote = /tmp/evil.git", true},
		{"[branch \"main\"]\nmerge = refs/heads/main", false},
		{"[submodule \"s\"]\nurl = /tmp/evil.git", true},
		{"[commit]\ntemplate = ~/.ssh/id_rsa", true},
		{"[http]\ncookieFile = ~/.gitcookies", true},
		{"[core]\nhooksPath = h", true},
		{"[core]\nsshCommand = s", true},
		{"[core]\neditor = e", true},
		{"[core]\npager = p", true},
		{"[core]\naskPass = a", true},
		{"[core]\ngitProxy = g", true},
		{"[core]\nalternateRefsCommand = c", true},
		{"[core]\nworktree = /w", true},
		{"[core]\nfsmonitorHookVersion = 2", false},
		{"[core]\nbare = false", false},
		{"[sequence]\neditor = e", true},
		{"[include]\npath = p", true},
		{"[includeIf \"gitdir:/x/\"]\npath = p", true},
		{"[includeif \"onbranch:main\"]\npath = p", true},
		{"[filter \"lfs\"]\nclean = c", true},
		{"[filter \"x\"]\nsmudge = s", true},
		{"[filter \"x\"]\nprocess = p", true},
		{"[filter \"x\"]\nrequired", true},
		{"[diff \"x\"]\ntextconv = t", true},
		{"[diff \"x\"]\ncommand = c", true},
		{"[diff]\nexternal = e", true},
		{"[diff]\nrenames = true", false},
		{"[merge \"x\"]\ndriver = d", true},
		{"[merge]\nconflictStyle = diff3", false},
		{"[mergetool \"x\"]\ncmd = c", true},
		{"[mergetool \"x\"]\npath = p", true},
		{"[difftool \"x\"]\ncmd = c", true},
		{"[difftool \"x\"]\npath = p", true},
		{"[credential]\nhelper = h", true},
		{"[credential \"https://x\"]\nhelper = h", true},
		{"[credential]\nusername = u", true},
		{"[alias]\nst = !sh -c evil", true},
		{"[alias]\nst = submodule foreach evil", true},
		{"[pager]\nlog = p", true},
		{"[gpg]\nprogram = g", true},
		{"[gpg \"ssh\"]\nprogram = g", true},
		{"[gpg \"x509\"]\nprogram = g", true},
		{"[gpg \"ssh\"]\ndefaultKeyCommand = c", true},
		{"[gpg]\nformat = ssh", false},
		{"[ssh]\nvariant = ssh", true},
		{"[protocol]\nallow = always", true},
		{"[protocol \"ext\"]\nallow = always", true},
		{"[remote \"o\"]\nuploadpack = u", true},
		{"[remote \"o\"]\nreceivepack = r", true},
		{"[remote \"o\"]\nvcs = v", true},
		{"[remote \"o\"]\nurl = https://x", true}, // any new remote URL: see the rule
		{"[url \"ext::sh -c evil\"]\ninsteadOf = https://", true},
		{"[url \"x\"]\npushInsteadOf = y", true},
		{"[submodule \"s\"]\nupdate = !evil", true},
		{"[submodule \"s\"]\nupdate = \" !evil\"", true},
		{"[submodule \"s\"]\nupdate = rebase", false},
		{"[submodule \"s\"]\nupdate = checkout", false},
		{"[submodule \"s\"]\nurl = u", true},
		{"[uploadpack]\npackObjectsHook = h", true},
		{"[receive]\nprocReceiveRefs = refs/for", false},
		{"[tar \"tgz\"]\ncommand = c", true},
		{"[trailer \"x\"]\ncommand = c", true},
		{"[trailer \"x\"]\ncmd = c", true},
		{"[sendemail]\nsendmailCmd = c", true},
		{"[sendemail]\ntoCmd = c", true},
		{"[sendemail]\nccCmd = c", true},
		{"[sendemail]\nheaderCmd = c", true},
		{"[sendemail \"work\"]\nsmtpServer = /bin/x", true},
		{"[sendemail]\nfrom = me", false},
		{"[imap]\ntunnel = t", true},
		{"[instaweb]\nhttpd = h", true},
		{"[web]\nbrowser = b", true},
		{"[browser \"x\"]\ncmd = c", true},
		{"[browser \"x\"]\npath = p", true},
		{"[man \"x\"]\ncmd = c", true},
		{"[man \"x\"]\npath = p", true},
		{"[guitool \"x\"]\ncmd = c", true},
		{"[interactive]\ndiffFilter = f", true},
		{"[hook \"linter\"]\ncommand = c", true},
		{"[hook \"linter\"]\nevent = pre-commit", true},
		{"[fsmonitor]\nallowRemote = true", true},
		{"[init]\ntemplateDir = t", true},
		{"[lfs \"customtransfer.x\"]\npath = p", true},
		{"[lfs \"extension.x\"]\nclean = c", true},
		{"[lfs]\nurl = https://x", false},
		{"[user]\nemail = a@b", false},
		{"[core \"x\"]\nfsmonitor = evil", true},
	}
	for _, tc := range cases {
		entries, err := Parse([]byte(tc.config))
		if err != nil || len(entries) != 1 {
			t.Errorf("%q: Parse = %v, %v", tc.config, entries, err)
			continue
		}
		if got := RunsCode(entries[0]); got != tc.want {
			t.Errorf("RunsCode(%s = %q) = %v, want %v", entries[0].Key(), entries[0].Value, got, tc.want)
		}
	}
}
