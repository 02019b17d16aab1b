package dev.gpubroker.launch;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;

/**
 * The jar's start class. It is compiled for Java 17, the oldest Java that Spring Boot's own launcher runs on, while the
 * rest of GPU Broker needs 21 (web3j 5 and Spring Boot 4 are compiled for it). So on Java 17 to 20 the user reads one
 * line that says which Java is needed and how to point to it, instead of an {@code UnsupportedClassVersionError} from
 * deep inside the application. The application class is loaded only once the check has passed.
 */
public final class JavaVersionGate {

    static final int JAVA_FEATURE_MIN = 21;
    static final String APPLICATION_CLASS = "dev.gpubroker.GpuBrokerApplication";
    static final int EXIT_WRONG_JAVA = 1;

    private JavaVersionGate() {
    }

    public static void main(String[] args) throws Throwable {
        Runtime.Version running = Runtime.version();
        if (running.feature() < JAVA_FEATURE_MIN) {
            System.err.println(refusal(running, Path.of(System.getProperty("java.home"), "bin", "java")));
            System.exit(EXIT_WRONG_JAVA);
        }
        Class<?> application = Class.forName(APPLICATION_CLASS, true, JavaVersionGate.class.getClassLoader());
        MethodHandle main = MethodHandles.publicLookup()
                .findStatic(application, "main", MethodType.methodType(void.class, String[].class));
        // invokeExact, not reflection: an exception from the application reaches the JVM as itself, not wrapped.
        main.invokeExact(args);
    }

    /** One line, no stack trace: what is needed, what runs, and how to run the right one. */
    static String refusal(Runtime.Version running, Path java) {
        return "GPU Broker needs Java " + JAVA_FEATURE_MIN + " or newer, but this is Java " + running + " (" + java
                + "). Run the jar with the java of a JDK " + JAVA_FEATURE_MIN + "+: give its full path instead of 'java'"
                + " (in a Claude Desktop or Claude Code config, as \"command\"), or set JAVA_HOME to that JDK and run"
                + " $JAVA_HOME/bin/java.";
    }
}
