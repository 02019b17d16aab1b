package dev.gpubroker.lifecycle;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.UUID;

import org.springframework.stereotype.Component;

/**
 * This running broker among the instances that share one database: the name it writes into the leases it takes, so
 * that a lease says who holds it (host, process) and no two lives of a process are ever taken for one.
 */
@Component
public class BrokerInstance {

    private final String id;

    public BrokerInstance() {
        this.id = hostName() + "/" + ProcessHandle.current().pid() + "/" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** At most 100 characters: host, process id and a random part for this life of the process. */
    public String id() {
        return id;
    }

    private static String hostName() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            return name.length() > 60 ? name.substring(0, 60) : name;
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }

    @Override
    public String toString() {
        return id;
    }
}
