package dev.gpubroker.market.shadeform;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * One VM of the {@link ShadeformFake}: what Shadeform's VM is to the broker. An SSH server of its own (Apache MINA
 * SSHD on a loopback port) that lets in only the public key the instance was created with ({@code ssh_key_id}) as user
 * {@code shadeform}, and runs each command it is sent with a real {@code /bin/sh}. On its PATH are a {@code docker}
 * that answers the Docker CLI's {@code ps -aq}, {@code inspect --format} (the {@code .State} fields), {@code logs}
 * and {@code logs --timestamps} for the VM's one container, and an {@code nvidia-smi} that lists the instance type's
 * GPUs. The container is a real process: after the image pull ({@code pullTime}, or until {@code pullHeld} is counted down) the docker configuration's
 * {@code args} run with {@code sh} (as Shadeform's {@code docker run <image> <args>} does), their output stamped
 * line by line as Docker's daemon stamps it.
 */
final class FakeVm implements AutoCloseable {

    static final String USER = "shadeform";

    private final Path root;
    private final SshServer sshd;
    private volatile Process container;

    /**
     * @param authorized the key of the instance's {@code ssh_key_id}; null lets nobody in (Shadeform's managed key)
     * @param gpuLines what nvidia-smi lists, one {@code name, memory} line per GPU
     */
    FakeVm(PublicKey authorized, List<String> gpuLines, String args, Map<String, String> envs, Duration pullTime,
            java.util.concurrent.CountDownLatch pullHeld) {
        try {
            root = Files.createTempDirectory("fake-shadeform-vm");
            Path bin = Files.createDirectories(root.resolve("bin"));
            Files.createDirectories(root.resolve("container"));
            script(bin.resolve("docker"), DOCKER);
            script(bin.resolve("nvidia-smi"), "#!/bin/sh\n" + String.join("", gpuLines.stream()
                    .map(line -> "echo '" + line + "'\n").toList()));
            sshd = SshServer.setUpDefaultServer();
            sshd.setHost("127.0.0.1");
            sshd.setPort(0);
            sshd.setKeyPairProvider(new SimpleGeneratorHostKeyProvider());
            sshd.setPasswordAuthenticator(null);
            sshd.setKeyboardInteractiveAuthenticator(null);
            sshd.setPublickeyAuthenticator((user, key, session) -> USER.equals(user) && authorized != null
                    && KeyUtils.compareKeys(authorized, key));
            sshd.setCommandFactory((channel, command) -> new ShellCommand(command, bin));
            sshd.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofVirtual().name("fake-vm-container").start(() -> runContainer(args, envs, pullTime, pullHeld));
    }

    int port() {
        return sshd.getPort();
    }

    /** The container process, once started (for tests that kill it). */
    Process container() {
        return container;
    }

    /** Removes the container, as if its image had never started (Docker lists nothing). */
    void removeContainer() {
        Process running = container;
        if (running != null) {
            running.descendants().forEach(ProcessHandle::destroyForcibly);
            running.destroyForcibly();
        }
        try {
            Files.deleteIfExists(root.resolve("container/id"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void runContainer(String args, Map<String, String> envs, Duration pullTime,
            java.util.concurrent.CountDownLatch pullHeld) {
        try {
            if (pullHeld != null) {
                pullHeld.await();
            } else {
                Thread.sleep(pullTime);
            }
            Path dir = root.resolve("container");
            ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", "exec " + args).redirectErrorStream(true);
            builder.environment().putAll(envs);
            builder.environment().put("PATH", root.resolve("bin") + ":" + System.getenv("PATH"));
            builder.directory(root.toFile());
            Process process = builder.start();
            container = process;
            process.getOutputStream().close();
            write(dir.resolve("state"), "running 0 " + Instant.now() + " 0001-01-01T00:00:00Z");
            write(dir.resolve("id"), UUID.randomUUID().toString().replace("-", "") + "\n");
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8)); OutputStream log = Files.newOutputStream(dir.resolve("log"),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                String line;
                while ((line = out.readLine()) != null) {
                    log.write((Instant.now() + " " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    log.flush();
                }
            }
            int code = process.waitFor();
            String state = Files.readString(dir.resolve("state")).split(" ")[2];
            write(dir.resolve("state"), "exited " + code + " " + state + " " + Instant.now());
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // The VM was deleted under it.
        }
    }

    private static void write(Path file, String text) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.writeString(partial, text);
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void script(Path file, String text) throws IOException {
        Files.writeString(file, text);
        file.toFile().setExecutable(true);
    }

    @Override
    public void close() {
        removeContainer();
        try {
            sshd.stop(true);
        } catch (IOException ignored) {
            // Going anyway.
        }
        try (var files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // A temporary directory.
        }
    }

    /** The Docker CLI's answers for the VM's one container; state is "status exitCode startedAt finishedAt". */
    private static final String DOCKER = """
            #!/bin/sh
            c="$(dirname "$0")/../container"
            case "$1" in
              info) exit 0 ;;
              ps) [ -f "$c/id" ] && cat "$c/id"; exit 0 ;;
              inspect)
                [ "$2" = "--format" ] || { echo "fake docker: inspect takes --format" >&2; exit 2; }
                [ -f "$c/id" ] && [ "$4" = "$(cat "$c/id")" ] || { echo "Error: No such object: $4" >&2; exit 1; }
                set -- "$3" $(cat "$c/state")
                printf '%s\\n' "$1" | sed -e "s/{{.State.Status}}/$2/g" -e "s/{{.State.ExitCode}}/$3/g" \\
                    -e "s/{{.State.StartedAt}}/$4/g" -e "s/{{.State.FinishedAt}}/$5/g" ;;
              logs)
                if [ "$2" = "--timestamps" ]; then id="$3"; else id="$2"; fi
                [ -f "$c/id" ] && [ "$id" = "$(cat "$c/id")" ] || { echo "Error: No such container: $id" >&2; exit 1; }
                if [ "$2" = "--timestamps" ]; then cat "$c/log"; else sed 's/^[^ ]* //' "$c/log"; fi ;;
              *) echo "fake docker: $1 is not faked" >&2; exit 2 ;;
            esac
            """;

    /** A command the VM's SSH server was sent, run by a real {@code /bin/sh} with the fake tools first on its PATH. */
    private static final class ShellCommand implements Command {

        private final String command;
        private final Path bin;
        private OutputStream out;
        private OutputStream err;
        private ExitCallback exit;
        private Process process;

        ShellCommand(String command, Path bin) {
            this.command = command;
            this.bin = bin;
        }

        @Override
        public void setInputStream(InputStream in) {
        }

        @Override
        public void setOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void setErrorStream(OutputStream err) {
            this.err = err;
        }

        @Override
        public void setExitCallback(ExitCallback callback) {
            this.exit = callback;
        }

        @Override
        public void start(ChannelSession channel, Environment env) throws IOException {
            ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command);
            Map<String, String> environment = new HashMap<>(builder.environment());
            builder.environment().clear();
            builder.environment().put("PATH", bin + ":" + environment.getOrDefault("PATH", "/usr/bin:/bin"));
            builder.environment().put("HOME", bin.getParent().toString());
            process = builder.start();
            process.getOutputStream().close();
            Thread.ofVirtual().name("fake-vm-ssh-command").start(() -> {
                try {
                    Thread stderr = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
                    copy(process.getInputStream(), out);
                    stderr.join();
                    int code = process.waitFor();
                    exit.onExit(code);
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                    exit.onExit(255);
                }
            });
        }

        private static void copy(InputStream from, OutputStream to) {
            try (from) {
                from.transferTo(to);
                to.flush();
            } catch (IOException closed) {
                // The client went away.
            }
        }

        @Override
        public void destroy(ChannelSession channel) {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
                try {
                    process.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException stopped) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
