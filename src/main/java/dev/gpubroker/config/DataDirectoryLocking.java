package dev.gpubroker.config;

import java.nio.file.Path;

import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Takes the data directory's lock ({@link DataDirectoryLock}) before any bean that touches the data directory exists:
 * bean factory post-processors run before the first singleton is made. The jar's main method takes it earlier still,
 * to refuse in one line before Spring starts; here it is taken for every other way in (tests, a data directory set in
 * a configuration file), and released with the context. Once the HTTP server listens, the lock file names its URL.
 */
@Component
class DataDirectoryLocking implements BeanFactoryPostProcessor, EnvironmentAware, ApplicationListener<WebServerInitializedEvent> {

    public static final String TRANSPORT_PROPERTY = "gpubroker.transport";

    private Environment environment;
    private DataDirectoryLock lock;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        Path dataDir = Binder.get(environment).bind(BrokerProperties.DATA_DIR_PROPERTY, Path.class)
                .orElse(Path.of(BrokerProperties.DATA_DIR_DEFAULT));
        DataDirectoryLock held = DataDirectoryLock.heldFor(dataDir);
        if (held != null) {
            // Taken by main, and held until the process ends.
            this.lock = held;
            return;
        }
        this.lock = DataDirectoryLock.acquire(dataDir, environment.getProperty(TRANSPORT_PROPERTY, "http"));
        if (beanFactory instanceof DefaultListableBeanFactory registry) {
            registry.registerDisposableBean("dataDirectoryLock", lock::close);
        }
    }

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        if (lock != null) {
            String host = environment.getProperty("server.address", "127.0.0.1");
            if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
                // Listening everywhere: the address a client on this host uses is loopback.
                host = "127.0.0.1";
            }
            lock.describe("http://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":"
                    + event.getWebServer().getPort());
        }
    }
}
