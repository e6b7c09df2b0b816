<?php
/**
 * The misp-correlate C library from PHP: normalise values, read MISP JSON,
 * check warninglists and correlate events, comparing every result with the
 * expected one. Exits with status 1 on any mismatch.
 *
 * Usage: php -d ffi.enable=1 example.php <libmisp_correlate_ffi.so> [repository root]
 * (run.sh builds the library and runs this.)
 *
 * SPDX-License-Identifier: AGPL-3.0-only
 */

declare(strict_types=1);

require __DIR__ . '/MispCorrelate.php';

$library = $argv[1] ?? getenv('MISP_CORRELATE_LIB');
if (!$library) {
    fwrite(STDERR, "usage: php -d ffi.enable=1 example.php <libmisp_correlate_ffi.so> [repository root]\n");
    exit(2);
}
$root = $argv[2] ?? dirname(__DIR__, 2);
$misp = new MispCorrelate($library, dirname(__DIR__) . '/include/misp_correlate.h');

$failures = 0;
function expect(string $what, mixed $got, mixed $want): void
{
    global $failures;
    if ($got === $want) {
        echo "ok   $what\n";
    } else {
        $failures++;
        echo "FAIL $what\n     got:  " . json_encode($got) . "\n     want: " . json_encode($want) . "\n";
    }
}

// --- version and normalisation ---------------------------------------------

echo "misp-correlate ", $misp->version(), "\n";
expect('normalize ip-src', $misp->normalize('ip-src', " 10.0.0.1 \n"), '10.0.0.1');
try {
    $misp->normalize('domain|ip', 'example.com');
    expect('a composite value without | is rejected', 'accepted', 'MISP_ERR_REJECTED');
} catch (MispException $e) {
    expect('a composite value without | is rejected', $e->resultName, 'MISP_ERR_REJECTED');
    echo "     MISP says: {$e->getMessage()}\n";
}
try {
    $misp->normalize('no-such-type', 'x');
    expect('an unknown type is refused', 'accepted', 'MISP_ERR_UNKNOWN_TYPE');
} catch (MispException $e) {
    expect('an unknown type is refused', $e->result, $misp->ffi->MISP_ERR_UNKNOWN_TYPE);
}

// --- MISP JSON -------------------------------------------------------------

$summary = $misp->loadSummary('{"Event": {"uuid": "5a4cb19a-f550-437f-bd29-48ed950d210f", "info": "x",
    "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}, {"type": "no-such-type", "value": "x"}]}}');
expect('load summary counts attributes', $summary['attributes'], 2);
expect('load summary lists the rejected attribute', $summary['rejected'][0]['type'] ?? null, 'no-such-type');

echo $failures === 0 ? "example.php: all checks passed\n" : "example.php: $failures check(s) failed\n";
exit($failures === 0 ? 0 : 1);
