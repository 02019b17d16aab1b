package dev.gpubroker.market.process;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The options bubblewrap gets for one job. They are handed to {@code bwrap --args 3 -- <command>} on a pipe, never on a
 * command line, so that the job's variables (and the host's paths) do not show in {@code ps} on the host; the command
 * follows on the command line (bubblewrap reads only options from the pipe).
 *
 * <p>What the job then sees: its own user, mount, PID, network, IPC, UTS and cgroup namespaces (no network at all,
 * so no path to the broker, its database or its chain); its working directory at {@code /work}, writable; the
 * system's programs and libraries read-only ({@code /usr} and the {@code /bin}, {@code /lib*}, {@code /sbin} beside
 * it, and {@code /opt}, where GPU hosts keep their CUDA and Python stacks) and a few files of {@code /etc} a program needs
 * to start, with the broker's own directories hidden should they lie inside those; a fresh {@code /proc} showing only its own processes,
 * a minimal {@code /dev}, an empty {@code /tmp}; the device nodes of its GPUs, if any; and no way to make user
 * namespaces of its own. Its first process leads a new session (no terminal to inject input into). When that process
 * ends, bubblewrap's init (PID 1 of the job's namespace) ends and the kernel kills every process left in the namespace.
 */
final class BubblewrapArguments {

    /** Where the job's working directory is, inside the sandbox. */
    static final String WORK = "/work";
    /** The file descriptor bubblewrap writes its status to: a {@code child-pid} once the sandbox is made. */
    static final int STATUS_FD = 4;
    private static final List<String> SYSTEM_DIRECTORIES = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");
    // Software beside the system's, read-only when there: GPU hosts keep their CUDA, conda and Python stacks here.
    private static final List<String> OPTIONAL_DIRECTORIES = List.of("/opt");
    // What a program needs from /etc to start and find its libraries; nothing with a secret, no passwd or hosts.
    private static final List<String> ETC_FILES = List.of("/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf",
            "/etc/ld.so.conf.d", "/etc/localtime");

    private BubblewrapArguments() {
    }

    /**
     * @param workSource  the job's working directory as bubblewrap finds it (outside the sandbox)
     * @param environment the job's whole environment
     * @param hidden      the broker's own directories (its data, its wallets): an empty directory in their place
     *                    wherever they lie inside what the job sees (a broker installed under /opt, say)
     */
    static List<String> options(String workSource, Map<String, String> environment, List<String> devices,
            List<Path> hidden) {
        List<String> arguments = new ArrayList<>(List.of(
                "--unshare-all", "--unshare-user", "--disable-userns",
                "--die-with-parent", "--new-session", "--hostname", "gpubroker-job",
                "--json-status-fd", Integer.toString(STATUS_FD),
                "--clearenv"));
        new TreeMap<>(environment).forEach((name, value) -> {
            arguments.add("--setenv");
            arguments.add(name);
            arguments.add(value);
        });
        List<Path> bound = new ArrayList<>(List.of(Path.of("/usr")));
        arguments.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String directory : SYSTEM_DIRECTORIES) {
            Path path = Path.of(directory);
            if (Files.isSymbolicLink(path)) {
                // A merged /usr: /bin is a link to usr/bin, made again as such inside.
                arguments.addAll(List.of("--symlink", readLink(path), directory));
            } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                arguments.addAll(List.of("--ro-bind", directory, directory));
                bound.add(path);
            }
        }
        for (String directory : OPTIONAL_DIRECTORIES) {
            if (Files.isDirectory(Path.of(directory), LinkOption.NOFOLLOW_LINKS)) {
                arguments.addAll(List.of("--ro-bind", directory, directory));
                bound.add(Path.of(directory));
            }
        }
        ETC_FILES.forEach(file -> {
            arguments.addAll(List.of("--ro-bind-try", file, file));
            bound.add(Path.of(file));
        });
        hidden.stream().map(BubblewrapArguments::realPath).distinct()
                .filter(directory -> bound.stream().anyMatch(directory::startsWith))
                .forEach(directory -> arguments.addAll(List.of("--tmpfs", directory.toString())));
        arguments.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        devices.forEach(device -> arguments.addAll(List.of("--dev-bind-try", device, device)));
        arguments.addAll(List.of("--bind", workSource, WORK, "--chdir", WORK));
        return List.copyOf(arguments);
    }

    /** NUL-separated, as {@code --args} reads them. An argument cannot hold a NUL: the environment rule refuses it. */
    static byte[] encode(List<String> arguments) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String argument : arguments) {
            if (argument.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("an argument of the sandbox holds a NUL character");
            }
            out.writeBytes(argument.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** Where a directory really is (links resolved), for comparing it with what the sandbox binds. */
    private static Path realPath(Path directory) {
        try {
            return directory.toRealPath();
        } catch (java.io.IOException e) {
            return directory.toAbsolutePath().normalize();
        }
    }

    private static String readLink(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the link " + link, e);
        }
    }
}
