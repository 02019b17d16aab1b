package dev.gpubroker.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** The package rules of docs/architecture.md, enforced. */
@AnalyzeClasses(packages = "dev.gpubroker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule theEdgesCallApplicationServicesNeverRepositories = noClasses()
            .that().resideInAnyPackage("dev.gpubroker.mcp..", "dev.gpubroker.admin..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.gpubroker.store..", "org.web3j..",
                    "org.springframework.r2dbc..", "io.r2dbc..");

    @ArchTest
    static final ArchRule nothingDependsOnTheMcpEdge = noClasses()
            .that().resideOutsideOfPackages("dev.gpubroker.mcp..")
            .and().doNotHaveFullyQualifiedName("dev.gpubroker.GpuBrokerApplication")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.mcp..");

    @ArchTest
    static final ArchRule nothingDependsOnTheAdminEdge = noClasses()
            .that().resideOutsideOfPackages("dev.gpubroker.admin..")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.admin..");

    @ArchTest
    static final ArchRule providerPackagesDoNotKnowEachOther = slices()
            .matching("dev.gpubroker.market.(*)..")
            .should().notDependOnEachOther()
            // market.process is not a provider: it runs local processes for any provider that executes on this host.
            .ignoreDependency(com.tngtech.archunit.base.DescribedPredicate.alwaysTrue(),
                    com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage("dev.gpubroker.market.process.."));

    @ArchTest
    static final ArchRule businessPackagesDoNotDependOnProviderImplementations = noClasses()
            .that().resideInAnyPackage("dev.gpubroker.scheduler..", "dev.gpubroker.payments..", "dev.gpubroker.identity..")
            .should().dependOnClassesThat().resideInAPackage("dev.gpubroker.market.*..");

    /** Every business package records into metrics, so metrics may know none of them (or the packages would cycle). */
    @ArchTest
    static final ArchRule metricsKnowNoBusinessPackage = noClasses()
            .that().resideInAPackage("dev.gpubroker.metrics..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.gpubroker.market..", "dev.gpubroker.jobs..",
                    "dev.gpubroker.payments..", "dev.gpubroker.scheduler..", "dev.gpubroker.policy..",
                    "dev.gpubroker.identity..", "dev.gpubroker.ledger..", "dev.gpubroker.audit..",
                    "dev.gpubroker.lifecycle..", "dev.gpubroker.mcp..", "dev.gpubroker.admin..");

    @ArchTest
    static final ArchRule moneyIsALeafPackage = classes()
            .that().resideInAPackage("dev.gpubroker.money..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.gpubroker.money..");
}
