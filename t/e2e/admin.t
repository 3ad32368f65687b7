#!/usr/bin/perl

# The admin API: its token, accounts, keys (shown once, never listed),
# grants, adjustments and expiries with a reason, the ledger by account,
# time and sequence, an account's tasks, the audit and stats, and its
# error answers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use Makeclip::Test qw(json_decode);

my $t = Makeclip::Test->new(workers => 2);

$t->write_config(<<'END' . $t->api_server . <<'END2');
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider sandbox adapter=sandbox queue=100ms run=100ms
                      video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_model sandbox-video price=10 seconds=4 to=sandbox;
    makeclip_plan pro models=*;
    makeclip_plan free models=sandbox-video max_active=1;
END
    server {
        listen 127.0.0.1:%%PORT_admin%%;

        location /admin/ {
            makeclip_admin;
            makeclip_admin_token "s3cret-admin-token";
        }

        location /open/ {
            makeclip_admin;
            allow 127.0.0.2;
            deny all;
        }
    }
END2

my ($ok, $out) = $t->test_config;
ok($ok, 'the configuration is valid');
like($out, qr/\[warn\].*"makeclip_admin" without "makeclip_admin_token"/,
     'nginx -t warns about an admin location without a token');

$t->run;

my $P = $t->port('admin');
my $TOKEN = 's3cret-admin-token';

sub admin {
    my ($method, $path, %o) = @_;
    return $t->http($method, "/admin$path", port => $P,
                    key => exists $o{token} ? $o{token} : $TOKEN,
                    %o);
}

# the token
my $r = admin('GET', '/stats', token => undef);
is($r->{status}, 401, 'no token: 401');
is($r->{json}{error}{code}, 'missing_admin_token', 'missing_admin_token');
like($r->{headers}{'www-authenticate'}, qr/^Bearer/, 'WWW-Authenticate: Bearer');

for my $bad ('s3cret-admin-toke', 's3cret-admin-tokenX', 'x' x 18, '') {
    $r = admin('GET', '/stats', token => $bad eq '' ? undef : $bad,
               $bad eq '' ? (headers => { Authorization => 'Bearer ' }) : ());
    is($r->{status}, 401, "a wrong token (\"$bad\") is 401");
}

$r = admin('GET', '/stats');
is($r->{status}, 200, 'the right token: 200');

$r = $t->http('GET', '/open/stats', port => $P);
is($r->{status}, 403, 'an admin location without a token, closed by deny');

# accounts
$r = admin('POST', '/accounts', body => { id => 'acme', plan => 'pro',
                                          credits => 500 });
is($r->{status}, 201, 'create an account: 201');
is($r->{json}{object}, 'account', 'an account object');
is($r->{json}{balance}, 500, 'with its initial credits');
is($r->{json}{plan}, 'pro', 'and its plan');

$r = admin('POST', '/accounts', body => { id => 'acme', plan => 'pro' });
is($r->{status}, 409, 'the same id again: 409');
is($r->{json}{error}{code}, 'account_exists', 'account_exists');

$r = admin('POST', '/accounts', body => { id => 'bad id', plan => 'pro' });
is($r->{status}, 400, 'an invalid id: 400');
is($r->{json}{error}{param}, 'id', 'param id');

$r = admin('POST', '/accounts', body => { id => 'x1', plan => 'gold' });
is($r->{status}, 400, 'a plan nginx.conf does not define: 400');
is($r->{json}{error}{param}, 'plan', 'param plan');

$r = admin('POST', '/accounts', body => { id => 'x1', plan => 'pro',
                                          credits => -5 });
is($r->{status}, 400, 'negative credits: 400');

$r = admin('POST', '/accounts', body => '{"id": ',
           headers => { 'Content-Type' => 'application/json' });
is($r->{status}, 400, 'malformed JSON: 400');
is($r->{json}{error}{code}, 'invalid_json', 'invalid_json');

$r = admin('POST', '/accounts', body => '{"id": "' . ('a' x 70000) . '"}',
           headers => { 'Content-Type' => 'application/json' });
is($r->{status}, 413, 'a body over 64k: 413');

admin('POST', '/accounts', body => { id => 'beta', plan => 'free' });

$r = admin('GET', '/accounts/acme');
is($r->{status}, 200, 'read an account');
is_deeply([@{ $r->{json} }{qw(balance reserved plan disabled)}],
          [500, 0, 'pro', JSON::PP::false], 'balance, reserved, plan');

$r = admin('GET', '/accounts/nobody');
is($r->{status}, 404, 'an unknown account: 404');
is($r->{json}{error}{code}, 'account_not_found', 'account_not_found');

$r = admin('GET', '/accounts?limit=1');
is(scalar @{ $r->{json}{data} }, 1, 'list: limit 1');
ok($r->{json}{has_more}, 'has_more');
my $r2 = admin('GET', "/accounts?limit=10&after=$r->{json}{last_id}");
is_deeply([map { $_->{id} } @{ $r->{json}{data} }, @{ $r2->{json}{data} }],
          ['acme', 'beta'], 'the next page follows');

# keys
$r = admin('POST', '/accounts/acme/keys', body => {});
is($r->{status}, 201, 'issue a key: 201');
my $key = $r->{json}{key};
my $kid = $r->{json}{id};
like($key, qr/^mk_[0-9a-f]{48}$/, 'the key, shown once');
like($kid, qr/^[0-9a-f]{12}$/, 'its id');
is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');

$r = $t->get('/v1/credits', key => $key);
is($r->{status}, 200, 'the key works on the API');
is($r->{json}{balance}, 500, 'for its account');

$r = admin('GET', '/accounts/acme/keys');
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [$kid], 'list: the id');
unlike($r->{content}, qr/\Q$key\E|[0-9a-f]{64}/,
       'neither the key nor its hash is listed');

my $key2 = admin('POST', '/accounts/acme/keys', body => {})->{json}{key};

$r = admin('DELETE', "/accounts/beta/keys/$kid");
is($r->{status}, 404, "another account's key cannot be revoked");

$r = admin('DELETE', "/accounts/acme/keys/$kid");
is($r->{status}, 200, 'revoke a key');
ok($r->{json}{revoked}, 'revoked');
is($t->get('/v1/credits', key => $key)->{status}, 401,
   'a revoked key is refused');
is($t->get('/v1/credits', key => $key2)->{status}, 200,
   'the other key still works');

$r = admin('DELETE', "/accounts/acme/keys/$kid");
is($r->{status}, 404, 'revoking it again: 404');

ok(!grep({ /\Q$key\E/ } $t->errors(qr/./)), 'no key in the error log');

# plan and disable
$r = admin('PATCH', '/accounts/acme', body => { plan => 'free' });
is($r->{status}, 200, 'set the plan');
is($r->{json}{plan}, 'free', 'plan free');

$r = admin('PATCH', '/accounts/acme', body => { plan => 'gold' });
is($r->{status}, 400, 'an unknown plan: 400');

$r = admin('PATCH', '/accounts/acme', body => { disabled => JSON::PP::true });
ok($r->{json}{disabled}, 'disable');
$r = $t->post('/v1/videos', key => $key2, body => { prompt => 'x' });
is($r->{status}, 403, 'a disabled account is refused');
is($r->{json}{error}{code}, 'account_disabled', 'account_disabled');

$r = admin('POST', '/accounts/acme', body => { disabled => JSON::PP::false,
                                               plan => 'pro' });
ok(!$r->{json}{disabled} && $r->{json}{plan} eq 'pro', 'enable, plan pro');

$r = admin('PATCH', '/accounts/acme', body => {});
is($r->{status}, 400, 'an update with nothing to change: 400');

# credits
my $t_before = int(time * 1000);
sleep 0.01;

$r = admin('POST', '/accounts/acme/grant', body => { amount => 100 });
is($r->{status}, 400, 'a grant without a reason: 400');
is($r->{json}{error}{param}, 'reason', 'param reason');

$r = admin('POST', '/accounts/acme/grant', body => { amount => 0,
                                                     reason => 'x' });
is($r->{status}, 400, 'a grant of 0: 400');

$r = admin('POST', '/accounts/acme/grant', body => { amount => 100,
                                                     reason => 'top-up' });
is($r->{status}, 200, 'grant 100');
is($r->{json}{balance}, 600, 'balance 600');
my $grant_seq = $r->{json}{seq};
ok($grant_seq > 0, 'the ledger entry');

$r = admin('POST', '/accounts/acme/adjust', body => { amount => -700,
                                                      reason => 'x' });
is($r->{status}, 409, 'an adjustment below zero: 409');
is($r->{json}{error}{code}, 'insufficient_credits', 'insufficient_credits');

$r = admin('POST', '/accounts/acme/adjust', body => { amount => -50,
                                                      reason => 'refund a '
                                                      . 'duplicate' });
is($r->{json}{balance}, 550, 'adjust -50');

$r = admin('POST', '/accounts/acme/expire', body => { amount => 10,
                                                      reason => 'promo ends' });
is($r->{json}{balance}, 540, 'expire 10');

sleep 0.01;
my $t_mid = int(time * 1000);
sleep 0.01;

# tasks
my @ids;
for my $i (1 .. 3) {
    $r = $t->post('/v1/videos', key => $key2,
                  body => { model => 'sandbox-video', prompt => "t$i" });
    push @ids, $r->{json}{id};
}
is(scalar(grep { defined } @ids), 3, 'three tasks');

$r = admin('GET', '/accounts/acme/tasks?limit=2');
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [@ids[2, 1]],
          'tasks, newest first');
ok($r->{json}{has_more}, 'has_more');
is($r->{json}{data}[0]{charge}, 'reserved', 'with their charge state');
ok(!exists $r->{json}{data}[0]{provider_data}, 'without adapter state');
$r = admin('GET', "/accounts/acme/tasks?after=$r->{json}{last_id}");
is_deeply([map { $_->{id} } @{ $r->{json}{data} }], [$ids[0]], 'the rest');

$r = admin('GET', '/accounts/acme/tasks?order=asc&limit=1');
is($r->{json}{data}[0]{id}, $ids[0], 'oldest first');

$r = admin('POST', '/accounts/acme/expire', body => { amount => 'all',
                                                      reason => 'closing' });
is($r->{json}{amount}, 540 - 120, 'expire all: what is not reserved');
is($r->{json}{balance}, 0, 'balance 0');

$r = admin('POST', '/accounts/acme/expire', body => { amount => 'all',
                                                      reason => 'again' });
is($r->{status}, 200, 'expire all of nothing');
ok(!defined $r->{json}{seq}, 'writes no entry');

$t->wait_task($_, key => $key2) for @ids;

# the ledger
$r = admin('GET', '/accounts/acme/ledger?limit=100');
my @types = map { $_->{type} } reverse @{ $r->{json}{data} };
is_deeply(\@types, [qw(grant grant adjust expire reserve reserve reserve
                       expire settle settle settle)],
          'the ledger, every movement in order')
    or diag(join ' ', @types);

my ($first) = grep { $_->{seq} == $grant_seq } @{ $r->{json}{data} };
is($first->{reason}, 'top-up', 'a grant keeps its reason');
is($first->{actor}, 'admin 127.0.0.1', 'and who did it');

$r = admin('GET', '/ledger?account=acme&limit=3');
is(scalar @{ $r->{json}{data} }, 3, 'paged');
ok($r->{json}{has_more}, 'has_more');
$r2 = admin('GET', "/ledger?account=acme&limit=100&before=$r->{json}{last_seq}");
is(scalar @{ $r->{json}{data} } + scalar @{ $r2->{json}{data} }, 11,
   'before= gives the rest');

$r = admin('GET', "/accounts/acme/ledger?since=${t_before}ms&until=${t_mid}ms"
                  . '&order=asc');
is_deeply([map { $_->{type} } @{ $r->{json}{data} }],
          [qw(grant adjust expire)], 'since= and until= (ms)');

$r = admin('GET', "/ledger?since=${t_mid}ms&account=acme&order=asc&limit=1");
is($r->{json}{data}[0]{type}, 'reserve', 'since= alone, oldest first');

$r = admin('GET', '/ledger?since=2020-01-01T00:00:00Z&until=2020-01-02&limit=5');
is(scalar @{ $r->{json}{data} }, 0, 'an RFC 3339 range with nothing in it');

$r = admin('GET', '/ledger?since=yesterday');
is($r->{status}, 400, 'a bad time: 400');

$r = admin('GET', '/ledger?limit=5000');
is($r->{status}, 400, 'a limit over 1000: 400');

$r = admin('GET', '/accounts/nobody/ledger');
is($r->{status}, 404, 'the ledger of an unknown account: 404');

# audit and stats
$r = admin('GET', '/audit');
is($r->{status}, 200, 'audit');
ok($r->{json}{clean}, 'clean');
is($r->{json}{accounts}, 2, 'two accounts checked');
is($r->{json}{tasks}, 3, 'three tasks checked');

$r = admin('GET', '/stats');
is($r->{json}{store}{accounts}, 2, 'stats: accounts');
is($r->{json}{store}{tasks}, 3, 'stats: tasks');
is($r->{json}{worker}{sync}, 'interval', 'stats: the sync mode');

# what is not there
$r = admin('GET', '/nothing');
is($r->{status}, 404, 'an unknown endpoint: 404');
is($r->{json}{error}{code}, 'unknown_url', 'unknown_url');

$r = admin('DELETE', '/accounts/acme');
is($r->{status}, 405, 'a method an endpoint does not take: 405');

$r = admin('GET', '/accounts/acme/grant');
is($r->{status}, 405, 'GET on grant: 405');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
