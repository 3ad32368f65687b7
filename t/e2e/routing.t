#!/usr/bin/perl

# Routing rules written in nginx.conf (request fields, plan, nginx
# variables), accounts from a trusted layer (auth_request), content by
# redirect, access-log variables, and chunked bodies over the limit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Socket::INET;
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $a = $t->mock('Makeclip::Mock::OpenAI', name => 'a', key => 'key-a');
my $b = $t->mock('Makeclip::Mock::OpenAI', name => 'b', key => 'key-b');

$ENV{MC_KEY_A} = 'key-a';
$ENV{MC_KEY_B} = 'key-b';

$t->write_config(<<'END');
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider pa adapter=openai url=http://127.0.0.1:%%PORT_a%%/v1 key_env=MC_KEY_A;
    makeclip_provider pb adapter=openai url=http://127.0.0.1:%%PORT_b%%/v1 key_env=MC_KEY_B;
    makeclip_provider sbx adapter=sandbox queue=50ms run=100ms video=%%ROOT%%/conf/sandbox.mp4;
    makeclip_model m price=1 seconds=4,8,12 sizes=1280x720,720x1280 to=pa:default-model;
    makeclip_model s price=1 to=sbx;
    makeclip_plan pro models=*;
    makeclip_plan free models=*;

    log_format mc '$makeclip_account|$makeclip_plan|$makeclip_task_id|$makeclip_model|'
                  '$makeclip_provider|$makeclip_credits|$makeclip_status';

    map $http_x_tenant $tenant_account {
        default "";
        t1 acme;
        t2 beta;
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%DIR%%/logs/mc.log mc;

        location /v1/ {
            makeclip_api;
            makeclip_poll_interval 0;

            makeclip_route seconds>=12            to=pb:long-model;
            makeclip_route plan=free              to=pb:free-model;
            makeclip_route $http_x_region=eu|uk   to=pb:eu-model,pa:eu-fallback;
            makeclip_route style~^ani size=720x1280 to=pa:anime-portrait;
            makeclip_route tier=fast              to=sbx;
        }

        # a trusted layer names the account: auth_request
        location /trusted/v1/ {
            auth_request /auth;
            auth_request_set $acct $upstream_http_x_account;
            auth_request_set $plan $upstream_http_x_plan;
            makeclip_api;
            makeclip_auth $acct plan=$plan;
            makeclip_content redirect;
            makeclip_route plan=free to=pb:free-model;
        }

        # or a map on a header a front proxy sets
        location /mapped/v1/ {
            makeclip_api;
            makeclip_auth $tenant_account;
        }

        location = /auth {
            internal;
            proxy_pass http://127.0.0.1:%%PORT%%/authority;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Token $http_x_token;
        }

        location = /authority {
            if ($http_x_token != "good") { return 403; }
            add_header X-Account acme;
            add_header X-Plan free;
            return 204;
        }

        location /small/v1/ {
            makeclip_api;
            makeclip_max_body_size 1k;
        }

        include %%ROOT%%/conf/makeclip_proxy.conf;
    }
END

$t->run;

my $key = $t->account('acme', credits => 1000);
my $bkey = $t->account('beta', plan => 'free', credits => 1000);

sub last_model {
    my ($mock) = @_;
    my ($r) = reverse $mock->requests_to('POST', qr{^/v1/videos$});
    return $r ? $r->{json}{model} : undef;
}

# no rule matches: the model's own target
my $r = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'x' });
is($r->{json}{provider}, 'pa', 'no rule: the model\'s to=');
is(last_model($a), 'default-model', 'with its provider model id');

# a request field
$r = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'x', seconds => '12' });
is($r->{json}{provider}, 'pb', 'seconds>=12 goes to pb');
is(last_model($b), 'long-model', 'as long-model');

# the plan
$r = $t->post('/v1/videos', key => $bkey, body => { model => 'm', prompt => 'x' });
is(last_model($b), 'free-model', 'plan=free routes by plan');

# an nginx variable, with a fallback
$a->faults(create => []);
$b->faults(create => ['500']);
$r = $t->post('/v1/videos', key => $key, headers => { 'X-Region' => 'uk' },
              body => { model => 'm', prompt => 'x' });
is($r->{json}{provider}, 'pa', 'an nginx variable; the first target fails, the fallback serves');
is(last_model($a), 'eu-fallback', 'the fallback\'s model id');

# any plain field, a regex, and the size
$r = $t->post('/v1/videos', key => $key,
              body => { model => 'm', prompt => 'x', style => 'anime', size => '720x1280' });
is(last_model($a), 'anime-portrait', 'a plain field with a regex, and the size');

# a rule can send a model to the sandbox
$r = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'x', tier => 'fast' });
is($r->{json}{provider}, 'sbx', 'tier=fast goes to the sandbox');

# dry_run shows the route a rule picks
$r = $t->post('/v1/videos', key => $key, headers => { 'X-Region' => 'eu' },
              body => { model => 'm', prompt => 'x', dry_run => JSON::PP::true });
is_deeply($r->{json}{route}, [{ provider => 'pb', model => 'eu-model' },
                              { provider => 'pa', model => 'eu-fallback' }],
          'dry_run: the ordered targets');

# auth_request names the account and the plan
$r = $t->post('/trusted/v1/videos', headers => { 'X-Token' => 'bad' },
              body => { model => 's', prompt => 'x' });
is($r->{status}, 403, 'the trusted layer refuses a bad token');

$r = $t->post('/trusted/v1/videos', headers => { 'X-Token' => 'good' },
              body => { model => 'm', prompt => 'x' });
is($r->{status}, 200, 'the trusted layer\'s account creates');
is(last_model($b), 'free-model', 'with the plan the layer gave (free)');

my $sid = $t->post('/trusted/v1/videos', headers => { 'X-Token' => 'good' },
                   body => { model => 's', prompt => 'x' })->{json}{id};
$r = $t->get("/v1/videos/$sid", key => $key);
is($r->{status}, 200, 'the same account reads it with its key');

# a map names the account
$r = $t->get('/mapped/v1/credits', headers => { 'X-Tenant' => 't2' });
is($r->{json}{account}, 'beta', 'a map names the account');
$r = $t->get('/mapped/v1/credits', headers => { 'X-Tenant' => 't9' });
is($r->{status}, 401, 'no account from the map: 401');

# content by redirect: the sandbox serves a file, so redirect does not
# apply; an openai video needs the key, so it is proxied
$t->wait_task($sid, key => $key);
$r = $t->get("/trusted/v1/videos/$sid/content", headers => { 'X-Token' => 'good' });
is($r->{status}, 200, 'a local file is served even with redirect');

my $oid = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'r' })->{json}{id};
$t->wait_task($oid, key => $key);
$r = $t->get("/trusted/v1/videos/$oid/content", headers => { 'X-Token' => 'good' });
is($r->{status}, 200, 'a download that needs credentials is proxied, not redirected');
like($r->{content}, qr/^MOCK-MP4/, 'the provider\'s bytes');

# the access log variables
$t->stop;
open my $fh, '<', $t->dir . '/logs/mc.log' or die;
my @log = <$fh>;
ok(grep({ /^acme\|pro\|video_\w+\|m\|pa\|4\|queued$/ } @log), 'the variables in the access log')
    or diag(join '', @log[0 .. 3]);
$t->run;

# a chunked body over the limit: 413, read to the end, nothing charged
my ($bal) = $t->balance('acme');
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port) or die;
my $chunk = '{"model":"s","prompt":"' . ('x' x 3000) . '"}';
print $s "POST /small/v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $key\r\n"
    . "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $chunk, $chunk);
my $resp = join '', <$s>;
like($resp, qr{^HTTP/1\.1 413}, 'a chunked body over the limit is 413');
like($resp, qr/request_too_large/, 'in JSON');
is(scalar $t->balance('acme'), $bal, 'nothing charged');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
