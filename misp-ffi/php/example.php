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

// --- warninglists ----------------------------------------------------------

$lists = $misp->warninglists("$root/misp-ffi/tests/data/warninglists");
expect('10.1.2.3 is in RFC 1918', $lists->check('ip-dst', '10.1.2.3'), [[
    'list' => 'List of RFC 1918 CIDR blocks', 'list_type' => 'cidr', 'match' => '10.0.0.0/8', 'value' => '10.1.2.3',
]]);
expect('8.8.8.8 is in no list', $lists->check('ip-dst', '8.8.8.8'), []);
$many = $lists->checkMany([
    ['md5', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['domain', 'misp-project.org'],
    ['hostname', 'www.bmw.de'],
]);
expect('batch: the md5 of an empty file', $many[0][0]['list'] ?? null, 'List of known hashes for empty files');
expect('batch: no hit', $many[1], []);
expect('batch: a dax30 host', [$many[2][0]['match'] ?? null, $many[2][0]['value'] ?? null], ['bmw.de', 'www.bmw.de']);
$improved = $misp->warninglists("$root/misp-ffi/tests/data/warninglists", $misp->ffi->MISP_WL_LOWERCASE_HOSTS);
expect('upper-case host, MISP-compatible', $lists->check('hostname', 'WWW.BMW.DE'), []);
expect('upper-case host, lowercase_hosts', count($improved->check('hostname', 'WWW.BMW.DE')), 1);
$base = tempnam(sys_get_temp_dir(), 'misp-wl-');
$snapshot = "$base.snap";
$lists->saveSnapshot($snapshot);
$mapped = $misp->warninglistsSnapshot($snapshot, true);
expect('a snapshot answers as the lists it was saved from', $mapped->check('ip-dst', '10.1.2.3'), $lists->check('ip-dst', '10.1.2.3'));
unset($mapped);
unlink($snapshot);
unlink($base);

// --- correlation -----------------------------------------------------------

$engine = $misp->engine(["$root/misp-ffi/tests/data/events/event-a.json", "$root/misp-ffi/tests/data/events/event-b.json"]);
$keys = function (array $rows): array {
    $keys = array_map(fn ($row) => $row['kind'] . ' ' . $row['key'], $rows);
    sort($keys);
    return $keys;
};
$all = $engine->correlations();
expect('two events correlate on three values', $keys($all), [
    'exact 0123456789abcdef0123456789abcdef', 'exact 198.51.100.7', 'exact evil.example',
]);
foreach ($all as $row) {
    echo "     {$row['kind']} {$row['key']}: {$row['a']['attribute']} <-> {$row['b']['attribute']}\n";
}
expect('org-a does not see the distribution-0 md5', count($engine->correlations('org-a')), 2);
expect('summary', $engine->summary()['correlations'], 3);
$advanced = $misp->engine(["$root/misp-ffi/tests/data/events"], 20, true);
expect('advanced correlation adds 10.1.2.3 in 10.0.0.0/8', in_array('cidr 10.0.0.0/8', $keys($advanced->correlations()), true), true);
try {
    $misp->warninglists('/nonexistent');
    expect('a missing warninglist path is refused', 'loaded', 'MISP_ERR_IO');
} catch (MispException $e) {
    expect('a missing warninglist path is refused', $e->resultName, 'MISP_ERR_IO');
}

echo $failures === 0 ? "example.php: all checks passed\n" : "example.php: $failures check(s) failed\n";
exit($failures === 0 ? 0 : 1);
