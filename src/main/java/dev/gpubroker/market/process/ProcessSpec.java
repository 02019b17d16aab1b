package dev.gpubroker.market.process;

import java.util.List;
import java.util.Map;

/** What to execute for one launch, as the provider chose it. */
public sealed interface ProcessSpec {

    /**
     * A plain command: it runs in the job sandbox ({@link JobSandbox}) with exactly this environment (the provider's
     * variables and the agent's), seeing these device nodes (a job's GPUs) besides the sandbox's own.
     */
    record Command(List<String> command, Map<String, String> environment, List<String> devices) implements ProcessSpec {

        public Command {
            command = List.copyOf(command);
            environment = Map.copyOf(environment);
            devices = List.copyOf(devices);
            if (command.isEmpty()) {
                throw new IllegalArgumentException("a command has at least its program");
            }
            devices.forEach(device -> {
                if (!device.startsWith("/dev/") || device.contains("..")) {
                    throw new IllegalArgumentException("not a device node: " + device);
                }
            });
        }

        public Command(List<String> command, Map<String, String> environment) {
            this(command, environment, List.of());
        }

        @Override
        public String toString() {
            return "Command[command=" + command + ", environment=" + environment.keySet() + ", devices=" + devices + "]";
        }
    }

    /**
     * A container runtime's client (docker, podman), run for the job outside the sandbox: the container is the job's
     * isolation. The client runs with its own {@code environment} (the operator's, never the agent's), and reads
     * {@code input} on file descriptor 3 ({@code /dev/fd/3}): the job's variables as an environment file, so that they
     * reach the container without ever being in the client's environment or on its command line.
     */
    record ContainerClient(List<String> argv, Map<String, String> environment, String input) implements ProcessSpec {

        public ContainerClient {
            argv = List.copyOf(argv);
            environment = Map.copyOf(environment);
            if (argv.isEmpty()) {
                throw new IllegalArgumentException("a command has at least its program");
            }
        }

        @Override
        public String toString() {
            return "ContainerClient[argv=" + argv + ", environment=" + environment.keySet() + "]";
        }
    }
}
