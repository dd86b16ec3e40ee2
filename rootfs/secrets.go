package rootfs

// HomeSecrets are paths under a home directory that hold keys, tokens,
// passwords or what was typed at a prompt. They are hidden (empty) inside the
// sandbox so a hostile build step cannot read them. README.md lists them.
var HomeSecrets = []string{
	// SSH and GnuPG keys (GNUPGHOME in the XDG data directory, too).
	".ssh", ".gnupg", ".local/share/gnupg",

	// Shell, REPL and database-client histories: passwords and tokens typed
	// on command lines, and what was searched or yanked in less and vim.
	".bash_history", ".zsh_history", ".history", ".sh_history",
	".local/share/fish/fish_history", ".python_history", ".node_repl_history",
	".psql_history", ".mysql_history", ".sqlite_history", ".rediscli_history",
	".lesshst", ".viminfo",

	// Database client credentials.
	".pgpass", ".my.cnf", ".mylogin.cnf",

	// Browser and mail profiles: cookies, sessions, saved passwords.
	".mozilla", ".config/google-chrome", ".config/chromium",
	".config/BraveSoftware", ".config/microsoft-edge", ".thunderbird",

	// Password managers and keyrings.
	".config/Bitwarden", ".config/1Password", ".local/share/keyrings",
	".password-store",

	// Cloud, infrastructure and hosting CLIs.
	".config/gcloud", ".azure", ".aws", ".oci", ".config/doctl",
	".config/hcloud", ".terraformrc", ".terraform.d/credentials.tfrc.json",
	".vault-token", ".config/op", ".op", ".boto", ".s3cfg", ".fly",
	".netlify", ".config/netlify", ".vercel", ".local/share/com.vercel.cli",
	".config/configstore",

	// Containers and Kubernetes.
	".kube", ".minikube", ".config/helm", ".docker",
	".config/containers/auth.json",

	// Package registries and build tools.
	".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc", ".config/pip",
	".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml",
	".m2/settings.xml", ".m2/settings-security.xml",
	".gradle/gradle.properties", ".ivy2/.credentials",
	".nuget/NuGet/NuGet.Config", ".composer/auth.json",
	".config/composer/auth.json",

	// Git hosting.
	".git-credentials", ".config/git/credentials", ".netrc", ".config/gh",
	".config/hub", ".config/glab-cli",
}

// RunnerSecrets are the credential files of CI runners installed on the host
// (GitHub Actions self-hosted runners, GitLab Runner).
var RunnerSecrets = []string{
	"/etc/gitlab-runner",
	"/home/runner/runners",
	"/opt/actions-runner/.credentials",
	"/opt/actions-runner/.credentials_rsaparams",
	"/opt/actions-runner/.runner",
	"/actions-runner/.credentials",
	"/actions-runner/.credentials_rsaparams",
	"/actions-runner/.runner",
}

// procMasked are hidden under /proc and /sys: they leak host details or
// offer kernel interfaces. The list is the union of Docker's, runc's and
// Podman's defaults (Podman adds /sys/dev/block and /sys/fs/selinux);
// /sys/devices/virtual/powercap is the RAPL energy counter behind
// PLATYPUS (CVE-2020-8694).
var procMasked = []string{
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap", "/sys/dev/block", "/sys/fs/selinux",
}

// procReadOnly stay visible but read-only.
var procReadOnly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// devNodes are the host device nodes bound into the new /dev.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}
