package dev.gpubroker.admin;

import java.util.List;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.ProviderConfiguration;

/** Which providers this server offers, and how to enable the ones it does not (never a key). */
@RestController
class AdminProvidersController {

    private final ProviderCatalog providers;

    AdminProvidersController(ProviderCatalog providers) {
        this.providers = providers;
    }

    @GetMapping(AdminRoutes.PREFIX + "/providers")
    List<ProviderConfiguration> providers() {
        return providers.configuration();
    }
}
