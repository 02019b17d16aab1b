package dev.gpubroker.market;

import java.util.List;

/** A family of providers configured together (the demo marketplace, this host, a marketplace API). */
public interface ProviderSource {

    List<ComputeProvider> providers();
}
