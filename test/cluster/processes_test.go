package cluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// kubeconfig is a cluster administrator's, for the processes and helm;
// logDir holds the processes' logs.
var kubeconfig, logDir string

// startCluster starts what makes envtest's API server a cluster, each as
// a cluster administrator from a kubeconfig: the controller manager (every
// controller but the service-account token ones, which need keys envtest
// does not give), the scheduler and kwok. None serves a port of its own.
func startCluster(ctx context.Context) {
	dir, err := os.MkdirTemp("", "ugc-cluster-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	logDir = dir
	user, err := testEnv.AddUser(envtestAdmin(), nil)
	Expect(err).NotTo(HaveOccurred())
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(dir, "kubeconfig")
	Expect(os.WriteFile(kubeconfig, kc, 0o600)).To(Succeed())
	auth := []string{"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig, "--authorization-kubeconfig=" + kubeconfig}

	start(dir, asset("kube-controller-manager"), append(auth,
		"--controllers=*,-serviceaccount-token-controller",
		"--use-service-account-credentials=false", "--leader-elect=false", "--secure-port=0")...)
	start(dir, asset("kube-scheduler"), append(auth, "--leader-elect=false", "--secure-port=0")...)
	start(dir, asset("kwok"), "--kubeconfig="+kubeconfig, "--config="+filepath.Join(assets, "kwok-stages.yaml"),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake")
}

func asset(name string) string { return filepath.Join(assets, name) }

// start runs one binary with its output in dir/<name>.log, stopped
// (SIGTERM, then SIGKILL) when the suite ends. The channel is closed when
// the process exits.
func start(dir, path string, args ...string) <-chan struct{} {
	return startCmd(dir, exec.Command(path, args...))
}

func startCmd(dir string, cmd *exec.Cmd) <-chan struct{} {
	name := filepath.Base(cmd.Path)
	log, err := os.Create(filepath.Join(dir, name+".log"))
	Expect(err).NotTo(HaveOccurred())
	cmd.Stdout, cmd.Stderr = log, log
	Expect(cmd.Start()).To(Succeed(), name)
	GinkgoWriter.Printf("started %s (pid %d), log %s\n", name, cmd.Process.Pid, log.Name())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	DeferCleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = log.Close()
	})
	return exited
}
