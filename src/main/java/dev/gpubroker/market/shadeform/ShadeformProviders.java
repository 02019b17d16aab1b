package dev.gpubroker.market.shadeform;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderConfiguration;
import dev.gpubroker.market.ProviderSource;
import dev.gpubroker.market.remote.ApiKey;
import dev.gpubroker.market.remote.ApiKeys;
import dev.gpubroker.market.remote.ErrorReading;
import dev.gpubroker.market.remote.ProviderAccount;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.RemoteApi;
import dev.gpubroker.market.remote.RemoteProvidersConfiguration.RemoteHttp;

/**
 * Provider {@code shadeform}, offered when the operator has a Shadeform API key ({@value #KEY_VARIABLE}, or the file
 * {@code <data>/providers/shadeform.key}); without one it is simply not offered. With one, the broker's SSH key for
 * its VMs is read (or made) in {@code <data>/providers/shadeform-ssh.key}.
 */
@Component
public class ShadeformProviders implements ProviderSource, DisposableBean {

    static final String KEY_VARIABLE = "SHADEFORM_API_KEY";

    private final List<ComputeProvider> providers;
    private final ProviderConfiguration configuration;
    private final List<VmShell> shells = new ArrayList<>();

    public ShadeformProviders(ApiKeys keys, ShadeformSettings settings, RemoteHttp http, ProviderPricing pricing,
            Clock clock) {
        ProviderAccount account = ProviderAccount.find(keys, ShadeformProvider.NAME, KEY_VARIABLE, settings.baseUrl());
        this.configuration = account.configuration();
        this.providers = account.key().<List<ComputeProvider>>map(key -> {
            VmShell shell = shellFor(ShadeformSshKey.loadOrCreate(keys.accountFile(ShadeformSshKey.FILE_NAME)), settings);
            shells.add(shell);
            return List.of(create(settings, key, http, pricing, clock, shell));
        }).orElse(List.of());
    }

    static VmShell shellFor(ShadeformSshKey sshKey, ShadeformSettings settings) {
        return new VmShell(sshKey, settings.callTimeout());
    }

    static ShadeformProvider create(ShadeformSettings settings, ApiKey key, RemoteHttp http, ProviderPricing pricing,
            Clock clock, VmShell shell) {
        RemoteApi.Settings calls = RemoteApi.Settings.withCallTimeout(settings.callTimeout());
        RemoteApi api = new RemoteApi(ShadeformProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.X_API_KEY, calls, ErrorReading.NONE);
        RemoteApi creates = new RemoteApi(ShadeformProvider.NAME, http.builder(), settings.baseUrl(), key,
                RemoteApi.KeyHeader.X_API_KEY, calls, ShadeformFaults.CREATES);
        return new ShadeformProvider(settings, api, creates, pricing, clock, shell);
    }

    @Override
    public void destroy() {
        shells.forEach(VmShell::close);
    }

    @Override
    public List<ComputeProvider> providers() {
        return providers;
    }

    @Override
    public List<ProviderConfiguration> configuration() {
        return List.of(configuration);
    }
}
