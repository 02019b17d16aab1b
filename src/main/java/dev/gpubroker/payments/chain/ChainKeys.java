package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;

import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.wallet.RecordedWallets;
import dev.gpubroker.wallet.WalletStore;

/**
 * Which keys the chain starts with, and the rule that keeps recorded balances spendable (docs/payments.md, "Keys and
 * recorded state"): where a deployment (embedded chain) or agents (the database) are recorded, the server starts only
 * with the keystores that belong to them, found where they were and opened by the configured password. Otherwise it
 * stops with a message that names the missing file and the setting to fix, before anything is deployed, minted or
 * re-keyed. New keys are made only where nothing is recorded yet.
 */
final class ChainKeys {

    static final String RELAYER = "relayer";
    static final String DEMO_SELLER = "demo-seller";
    static final String FIX_LOCATION = "point " + WalletStore.DIR_SETTING + " (GPUBROKER_WALLETS_DIR) at the folder that "
            + "holds it, or GPUBROKER_DATA_DIR at the data directory it belongs to";
    static final String NOTHING_CHANGED = "Nothing was deployed, minted or re-keyed.";
    private static final int MISSING_NAMED_MAX = 3;
    private static final Logger log = LoggerFactory.getLogger(ChainKeys.class);

    /** The keys the embedded chain runs with: its operator (the relayer) and the demo seller it pays. */
    record Keys(Credentials relayer, String payee) {
    }

    private ChainKeys() {
    }

    /**
     * Keys for the embedded chain. With a recorded deployment: its operator's and payee's keystores, which must exist
     * and hold the recorded addresses (a data directory that used the old default {@code ./wallets} takes its keystores
     * over from there first, see {@link #adoptLegacyWallets}). Without one: new keys, unless the database records
     * agents, whose balances were on a chain this data directory no longer names.
     */
    static Keys forEmbedded(Optional<DeploymentRecord> record, Path recordFile, WalletStore wallets, RecordedWallets database,
            List<Path> legacyWalletDirs) {
        if (record.isPresent()) {
            DeploymentRecord deployment = record.get();
            adoptLegacyWallets(deployment, wallets, legacyWalletDirs);
            requireKeystore(wallets, RELAYER, deployment.operator(), "the deployment recorded in " + recordFile
                    + " is operated by " + deployment.operator() + " (its escrow holds this data directory's deposits)",
                    legacyWalletDirs);
            requireKeystore(wallets, DEMO_SELLER, deployment.payee(), "the deployment recorded in " + recordFile
                    + " pays the demo seller's settlements to it", legacyWalletDirs);
            requireCustodialKeystores(wallets, database);
            return new Keys(wallets.credentials(RELAYER), wallets.credentials(DEMO_SELLER).getAddress());
        }
        if (database.anyAgent()) {
            throw new StartupRefusal("the database records agents, but no deployment of the embedded chain is recorded ("
                    + recordFile + " is missing): their balances were on contracts this data directory no longer names. "
                    + "Restore " + recordFile.getParent() + " from a backup, or point GPUBROKER_DATA_DIR at a new data "
                    + "directory to start over. " + NOTHING_CHANGED);
        }
        return new Keys(wallets.credentialsOrCreate(RELAYER), wallets.credentialsOrCreate(DEMO_SELLER).getAddress());
    }

    /**
     * The relayer for an RPC chain: the escrow's operator there. Where the database records agents it must exist
     * already (a new one could not settle or refund their deposits); the caller checks it is the escrow's operator.
     */
    static Credentials forRpc(WalletStore wallets, RecordedWallets database) {
        if (database.anyAgent()) {
            requireKeystore(wallets, RELAYER, null, "the database records agents whose deposits only this relayer, the "
                    + "escrow's operator, can settle or refund", List.of());
            requireCustodialKeystores(wallets, database);
            return wallets.credentials(RELAYER);
        }
        return wallets.credentialsOrCreate(RELAYER);
    }

    /**
     * Keystores used to live in {@code ./wallets} of whatever directory the server was started in. A data directory
     * whose recorded deployment is operated by the relayer of such a folder, and which has no keystores of its own yet,
     * gets a verified copy of that folder (keystores and password); the originals stay where they are, as a backup and
     * for any other data directory that shared them.
     */
    static void adoptLegacyWallets(DeploymentRecord deployment, WalletStore wallets, List<Path> legacyWalletDirs) {
        if (wallets.hasKeystores()) {
            return;
        }
        for (Path candidate : distinct(legacyWalletDirs, wallets.directory())) {
            Optional<String> relayer = WalletStore.addressInKeystore(candidate.resolve(RELAYER + ".json"));
            if (relayer.isPresent() && sameAddress(relayer.get(), deployment.operator())) {
                try {
                    List<Path> copied = wallets.copyFrom(candidate);
                    log.warn("Wallets: copied {} files (the keystores and their password) from {}, where earlier versions "
                            + "kept them (./wallets of the working directory), into {}, where this data directory's "
                            + "keystores live now. The originals are left untouched: once you have a backup, remove them.",
                            copied.size(), candidate, wallets.directory());
                } catch (IOException e) {
                    throw new UncheckedIOException("could not copy the keystores of " + candidate + " into "
                            + wallets.directory(), e);
                }
                return;
            }
        }
    }

    private static void requireKeystore(WalletStore wallets, String label, String recordedAddress, String why,
            List<Path> legacyWalletDirs) {
        Path file = wallets.file(label);
        Optional<String> held = wallets.addressIn(label);
        if (held.isEmpty()) {
            throw new StartupRefusal(file + " is missing, but " + why + ": " + FIX_LOCATION + "." + legacyHint(wallets,
                    legacyWalletDirs) + " " + NOTHING_CHANGED);
        }
        if (recordedAddress != null && !sameAddress(held.get(), recordedAddress)) {
            throw new StartupRefusal(file + " holds " + held.get() + ", not " + recordedAddress + ", and " + why + ": this "
                    + "is another data directory's keystore; " + FIX_LOCATION + ". " + NOTHING_CHANGED);
        }
    }

    /** Every custodial agent the database records has its keystore here, holding the address the database records. */
    static void requireCustodialKeystores(WalletStore wallets, RecordedWallets database) {
        List<String> missing = new ArrayList<>();
        int missingCount = 0;
        for (RecordedWallets.Custodial agent : database.custodial()) {
            Optional<String> held = wallets.addressIn(agent.keystoreLabel());
            if (held.isPresent() && sameAddress(held.get(), agent.address())) {
                continue;
            }
            missingCount++;
            if (missing.size() < MISSING_NAMED_MAX) {
                missing.add(wallets.file(agent.keystoreLabel()) + (held.isEmpty() ? " (missing)" : " (holds " + held.get()
                        + ", not " + agent.address() + ")") + " of agent " + agent.agentId());
            }
        }
        if (missingCount > 0) {
            throw new StartupRefusal("the database records " + missingCount + " custodial agent wallet(s) whose keystore is "
                    + "not here: " + String.join("; ", missing) + (missingCount > missing.size() ? "; ..." : "") + ". Their "
                    + "money can only be spent with those keys: " + FIX_LOCATION + ". " + NOTHING_CHANGED);
        }
    }

    private static String legacyHint(WalletStore wallets, List<Path> legacyWalletDirs) {
        List<String> found = new ArrayList<>();
        for (Path candidate : distinct(legacyWalletDirs, wallets.directory())) {
            WalletStore.addressInKeystore(candidate.resolve(RELAYER + ".json"))
                    .ifPresent(address -> found.add(candidate + " (its relayer is " + address + ")"));
        }
        return found.isEmpty() ? "" : " Keystores found where earlier versions kept them: " + String.join(", ", found) + ".";
    }

    private static Set<Path> distinct(List<Path> candidates, Path own) {
        Set<Path> distinct = new LinkedHashSet<>();
        for (Path candidate : candidates) {
            Path absolute = candidate.toAbsolutePath().normalize();
            if (!absolute.equals(own)) {
                distinct.add(absolute);
            }
        }
        return distinct;
    }

    static boolean sameAddress(String a, String b) {
        return a.toLowerCase(Locale.ROOT).equals(b.toLowerCase(Locale.ROOT));
    }
}
