package rootfs

// HomeSecrets are paths under $HOME that hold keys and tokens. They are
// hidden (empty) inside the sandbox so a hostile build step cannot read them.
var HomeSecrets = []string{
	".ssh", ".gnupg", ".aws", ".azure", ".config/gcloud", ".kube", ".docker",
	".netrc", ".git-credentials", ".config/gh", ".config/hub",
	".config/git/credentials", ".npmrc", ".pypirc", ".cargo/credentials",
	".cargo/credentials.toml", ".gem/credentials", ".vault-token",
	".terraform.d/credentials.tfrc.json", ".password-store",
	".local/share/keyrings",
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
// offer kernel interfaces (the list Docker masks by default).
var procMasked = []string{
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	"/proc/sched_debug", "/proc/scsi", "/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// procReadOnly stay visible but read-only.
var procReadOnly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}

// devNodes are the host device nodes bound into the new /dev.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}
