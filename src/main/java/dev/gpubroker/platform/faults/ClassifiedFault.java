package dev.gpubroker.platform.faults;

/**
 * An exception that knows which {@link Fault} it is: how the business packages' own exceptions (a provider's
 * "unavailable", a node's error answer) are told by {@link Faults} without the platform depending on them.
 */
public interface ClassifiedFault {

    Fault fault();
}
