package dev.gpubroker.policy;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import reactor.core.publisher.Mono;

/** The global kill switch: when on, no agent can reserve or pay; reading goes on. Persisted, so it survives restarts. */
@Service
public class KillSwitch {

    static final String SETTING = "kill_switch";
    static final String ON = "on";
    private static final Logger log = LoggerFactory.getLogger(KillSwitch.class);

    private final SettingsRepository settings;
    private final Clock clock;

    public KillSwitch(SettingsRepository settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    public Mono<Boolean> isOn() {
        return settings.get(SETTING).map(ON::equals).defaultIfEmpty(false);
    }

    public Mono<Void> set(boolean on) {
        return settings.put(SETTING, on ? ON : "off", clock.instant())
                .doOnSuccess(ignored -> log.warn("Kill switch turned {}", on ? "ON: all spending stopped" : "off"));
    }
}
