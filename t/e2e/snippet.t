#!/usr/bin/perl

# A server that forgot `include makeclip_proxy.conf`: calls to providers
# fail cleanly (502, refunded) and the error log says what is missing,
# instead of a provider "rejecting" the request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Makeclip::Test;

my $t = Makeclip::Test->new;

my $oa = $t->mock('Makeclip::Mock::OpenAI', name => 'oa');
$ENV{MC_OA_KEY} = 'test-provider-key';

$t->write_config(<<'END');
    makeclip_store %%DIR%%/store map_size=16m;
    makeclip_provider oa adapter=openai url=http://127.0.0.1:%%PORT_oa%%/v1
                      key_env=MC_OA_KEY;
    makeclip_model m price=10 seconds=4 to=oa:sora-2;
    makeclip_plan pro models=*;

    server {
        listen 127.0.0.1:%%PORT%%;
        location /v1/ {
            makeclip_api;
        }
    }
END

$t->run;

my $key = $t->account('acme', credits => 100);

my $r = $t->post('/v1/videos', key => $key, body => { model => 'm', prompt => 'x' });
is($r->{status}, 502, 'no proxy location: 502');
is($r->{json}{error}{code}, 'provider_unavailable', 'provider_unavailable');
is_deeply([$t->balance('acme')], [100, 0], 'refunded');
is(scalar @{ $oa->requests }, 0, 'nothing reached the provider');
ok(scalar $t->errors(qr/did not proxy the call.*include makeclip_proxy\.conf/),
   'the error log says what to include');

$t->audit_clean;
$t->stop;
$t->check_log;

done_testing;
