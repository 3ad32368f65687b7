package Makeclip::Mock::Kling;

# Kling AI's video API, both generations, as Kling's pages describe them.
#
# The JWT API (model_name in the body):
#
#   POST /v1/videos/text2video           {model_name, prompt,
#                                        negative_prompt, cfg_scale, mode
#                                        std|pro, aspect_ratio
#                                        16:9|9:16|1:1, duration "5"|"10"
#                                        (a string; "3".."15" on v3),
#                                        callback_url, external_task_id}
#   POST /v1/videos/image2video          the same with image (a URL or
#                                        bare base64, never a data: URL)
#                                        and without aspect_ratio
#   GET  /v1/videos/{endpoint}/{id}      task_status submitted ->
#                                        processing -> succeed (task_result
#                                        .videos[]) or failed
#                                        (task_status_msg); a task is found
#                                        only under the endpoint that made it
#
#   Authorization: Bearer <JWT>: HS256 over header.claims with the secret
#   key; iss must be the access key, nbf not in the future, exp not past.
#   Every token seen is kept, decoded, for the test.
#
# The API-key API (model in the path):
#
#   POST /text-to-video/{model}          {prompt, settings{resolution,
#                                        aspect_ratio, duration (an int),
#                                        audio, multi_shot}, options{}}
#   POST /image-to-video/{model}         {contents[{type: prompt, text},
#                                        {type: first_frame, url}],
#                                        settings{resolution, duration,
#                                        audio, multi_shot}, options{}}
#   GET  /tasks?task_ids={id}            data[]: status submitted ->
#                                        processing -> succeeded (outputs[])
#                                        or failed (message)
#
#   Authorization: Bearer <API key>.
#
# Every answer is {code, message, request_id, data}, with the HTTP status
# Kling's error-code table gives each code.  Faults: besides the base
# class's, "code:N" answers code N with its table status and
# "code200:N" answers it with HTTP 200.  A prompt with "[fail]" ends
# failed, one with "[unsafe]" is refused with 1301.

use strict;
use warnings;
use parent 'Makeclip::Mock';

use B;
use JSON::PP;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time);

my %HTTP = (1000 => 401, 1001 => 401, 1002 => 401, 1003 => 401,
            1004 => 401, 1100 => 429, 1101 => 429, 1102 => 429,
            1103 => 403, 1200 => 400, 1201 => 400, 1202 => 404,
            1203 => 404, 1300 => 400, 1301 => 400, 1302 => 429,
            1303 => 429, 1304 => 429, 5000 => 500, 5001 => 503,
            5002 => 504);

my %MSG = (1102 => 'Resource pack exhausted or expired',
           1303 => 'parallel task over resource pack limit',
           5001 => 'Server temporarily unavailable');

my %LEGACY_MODELS = map { $_ => 1 } qw(kling-v1 kling-v1-5 kling-v1-6
    kling-v2-master kling-v2-1 kling-v2-1-master kling-v2-5-turbo
    kling-v2-6 kling-v3);

my %NEW_MODELS = map { $_ => 1 } qw(kling-2.5-turbo kling-2.6 kling-3.0
    kling-3.0-turbo);

sub new {
    my ($class, %opts) = @_;
    my $self = $class->SUPER::new(%opts);
    $self->{access_key} //= 'AKmockaccess';
    $self->{secret_key} //= 'SKmocksecret';
    $self->{api_key} //= 'kling-mock-api-key';
    $self->{tokens} = [];
    return $self;
}

sub routes {
    return [
        ['POST', qr{^/v1/videos/(text2video|image2video)$}, \&create,
         'create'],
        ['GET', qr{^/v1/videos/(text2video|image2video)/([\w-]+)$},
         \&status, 'status'],
        ['POST', qr{^/(text-to-video|image-to-video)/([\w.-]+)$},
         \&create_new, 'create'],
        ['GET', qr{^/tasks$}, \&tasks, 'status'],
        ['GET', qr{^/cdn/([\w-]+)\.mp4$}, \&cdn, 'content'],
    ];
}

sub envelope {
    my ($code, $message, $http) = @_;
    return [$http // $HTTP{$code} // 400, {},
            { code => $code + 0, message => $message,
              request_id => sprintf('req-%06d', int(rand(1e6))) }];
}

sub fault_body {
    my ($self, $status) = @_;
    my %code = (401 => 1000, 429 => 1302, 500 => 5000, 502 => 5000,
                503 => 5001, 504 => 5002);
    return { code => $code{$status} // 5000,
             message => "mock fault $status",
             request_id => 'req-fault' };
}

# "code:N" and "code200:N" faults become envelope answers of the route
sub take_fault {
    my ($self, $op) = @_;
    my $f = $self->SUPER::take_fault($op);
    if (defined $f && $f =~ /^code(200)?:(\d+)$/) {
        $self->{code_fault} = [$1 ? 200 : undef, $2];
        return undef;
    }
    return $f;
}

sub code_fault {
    my ($self) = @_;
    my $cf = delete $self->{code_fault} or return undef;
    return envelope($cf->[1], $MSG{$cf->[1]} // "mock code $cf->[1]",
                    $cf->[0]);
}

sub _b64url_decode {
    my ($s) = @_;
    return undef unless defined $s && $s =~ /^[A-Za-z0-9_-]*$/;
    (my $b = $s) =~ tr{-_}{+/};
    $b .= '=' x ((4 - length($b) % 4) % 4);
    return decode_base64($b);
}

sub _b64url { my $s = MIME::Base64::encode_base64($_[0], ''); $s =~ tr{+/}{-_};
              $s =~ s/=+$//; $s }

# the JWT, checked the way Kling's gateway does; undef when good
sub jwt_error {
    my ($self, $req) = @_;
    my $auth = $req->{headers}{authorization} // '';

    return envelope(1001, 'Authorization is empty') if $auth eq '';
    my ($tok) = $auth =~ /^Bearer (\S+)$/
        or return envelope(1002, 'Authorization is invalid');

    my ($h, $c, $s) = split /\./, $tok, -1;
    return envelope(1002, 'Authorization is invalid')
        unless defined $s && $h ne '' && $c ne '' && $s ne '';

    my $header = eval { decode_json(_b64url_decode($h) // '') };
    my $claims = eval { decode_json(_b64url_decode($c) // '') };

    return envelope(1002, 'Authorization is invalid')
        unless ref $header eq 'HASH' && ref $claims eq 'HASH'
               && ($header->{alg} // '') eq 'HS256'
               && ($header->{typ} // '') eq 'JWT';

    return envelope(1000, 'Authentication failed')
        unless _b64url(hmac_sha256("$h.$c", $self->{secret_key})) eq $s;

    return envelope(1000, 'Authentication failed')
        unless ($claims->{iss} // '') eq $self->{access_key};

    my $now = time;
    return envelope(1003, 'Authorization is not yet valid')
        unless defined $claims->{nbf} && $claims->{nbf} <= $now;
    return envelope(1004, 'Authorization has expired')
        unless defined $claims->{exp} && $claims->{exp} > $now;

    push @{$self->{tokens}}, { token => $tok, header => $header,
                               claims => $claims, at => $now };
    return undef;
}

sub key_error {
    my ($self, $req) = @_;
    my $auth = $req->{headers}{authorization} // '';
    return envelope(1001, 'Authorization is empty') if $auth eq '';
    return envelope(1002, 'Authorization is invalid')
        unless $auth eq "Bearer $self->{api_key}";
    return undef;
}

sub _is_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub _str { defined $_[0] && !ref $_[0] && !_is_number($_[0]) }

sub _durations {
    my ($model) = @_;
    return ($model =~ /v3|3\.0/) ? (3 .. 15) : (5, 10);
}

sub new_task {
    my ($self, %t) = @_;
    my $id = sprintf '8672114456%08d', ++$self->{seq};
    my $now = int(time * 1000);
    $self->{tasks}{$id} = { id => $id, polls => 0, created => $now,
                            outcome => $t{prompt} =~ /\[fail\]/ ? 'fail'
                                                                : undef,
                            %t };
    return $self->{tasks}{$id};
}

sub create {
    my ($self, $req, $endpoint) = @_;

    if (my $e = $self->jwt_error($req)) { return $e }
    if (my $e = $self->code_fault) { return $e }

    my $b = $req->{json};
    return envelope(1200, 'Invalid request parameters: body')
        unless ref $b eq 'HASH';

    my $i2v = $endpoint eq 'image2video';
    my $fields = qr/^(model_name|prompt|negative_prompt|cfg_scale|mode|
                      duration|callback_url|external_task_id|
                      ${\ ($i2v ? 'image|image_tail' : 'aspect_ratio')})$/x;

    for my $k (keys %$b) {
        return envelope(1201, "Invalid parameter: $k") unless $k =~ $fields;
    }

    my $model = $b->{model_name} // 'kling-v1';
    return envelope(1203, "model not found: $model")
        unless _str($model) && $LEGACY_MODELS{$model};

    return envelope(1201, 'prompt is required')
        unless ($i2v && !exists $b->{prompt})
               || (_str($b->{prompt}) && length $b->{prompt}
                   && length $b->{prompt} <= 2500);

    return envelope(1201, 'negative_prompt is invalid')
        if exists $b->{negative_prompt}
           && !(_str($b->{negative_prompt})
                && length $b->{negative_prompt} <= 2500);

    return envelope(1201, "mode is invalid: $b->{mode}")
        if exists $b->{mode} && !(_str($b->{mode})
                                  && $b->{mode} =~ /^(std|pro)$/);

    return envelope(1201, 'aspect_ratio is invalid')
        if exists $b->{aspect_ratio}
           && !(_str($b->{aspect_ratio})
                && $b->{aspect_ratio} =~ /^(16:9|9:16|1:1)$/);

    if (exists $b->{duration}) {
        return envelope(1201, 'duration must be a string')
            unless _str($b->{duration});
        return envelope(1201, "duration $b->{duration} is not supported "
                        . "by $model")
            unless grep { $_ eq $b->{duration} } _durations($model);
    }

    if ($i2v) {
        return envelope(1201, 'image is required') unless exists $b->{image};
        return envelope(1201, 'image must be a URL or Base64 without the '
                        . 'data: prefix')
            unless _str($b->{image})
                   && ($b->{image} =~ m{^https?://}
                       || $b->{image} =~ m{^[A-Za-z0-9+/]+={0,2}$});
    }

    return envelope(1301, 'Failure to pass the risk control system')
        if ($b->{prompt} // '') =~ /\[unsafe\]/;

    my $task = $self->new_task(api => 'jwt', endpoint => $endpoint,
                               prompt => $b->{prompt} // '');

    return [200, {}, { code => 0, message => 'SUCCEED',
                       request_id => "req-$task->{id}",
                       data => { task_id => $task->{id},
                                 task_status => 'submitted',
                                 task_info => {},
                                 created_at => $task->{created},
                                 updated_at => $task->{created} } }];
}

sub status {
    my ($self, $req, $endpoint, $id) = @_;

    if (my $e = $self->jwt_error($req)) { return $e }
    if (my $e = $self->code_fault) { return $e }

    my $task = $self->{tasks}{$id};
    return envelope(1203, "task not found: $id")
        unless $task && $task->{api} eq 'jwt'
               && $task->{endpoint} eq $endpoint;

    my $s = $self->step($task);
    my %data = (task_id => $id, task_status => $s, task_info => {},
                created_at => $task->{created},
                updated_at => int(time * 1000));

    if ($s eq 'succeed') {
        $data{task_result} = { videos => [ {
            id => "v$id", url => $self->url . "/cdn/v$id.mp4",
            duration => '5.1' } ] };
        $data{final_unit_deduction} = '1';
    } elsif ($s eq 'failed') {
        $data{task_status_msg} = 'Failure to pass the risk control system';
    }

    return [200, {}, { code => 0, message => 'SUCCEED',
                       request_id => "req-s$id", data => \%data }];
}

# submitted (the first poll), processing, then the outcome
sub step {
    my ($self, $task) = @_;
    return $task->{final} if $task->{final};
    $task->{polls}++;
    return 'submitted' if $task->{polls} == 1 && $self->{steps} > 2;
    return 'processing' if $task->{polls} < $self->{steps};
    my $o = $task->{outcome} // $self->{outcome};
    return $task->{final} = $o eq 'fail' ? 'failed' : 'succeed';
}

sub create_new {
    my ($self, $req, $kind, $model) = @_;

    if (my $e = $self->key_error($req)) { return $e }
    if (my $e = $self->code_fault) { return $e }

    my $b = $req->{json};
    return envelope(1200, 'Invalid request parameters: body')
        unless ref $b eq 'HASH';

    return envelope(1203, "model not found: $model") unless $NEW_MODELS{$model};

    my $i2v = $kind eq 'image-to-video';
    my $prompt;

    for my $k (keys %$b) {
        return envelope(1201, "Invalid parameter: $k")
            unless $k =~ ($i2v ? qr/^(contents|settings|options)$/
                               : qr/^(prompt|settings|options)$/);
    }

    if ($i2v) {
        my $c = $b->{contents};
        return envelope(1201, 'contents is required')
            unless ref $c eq 'ARRAY' && @$c;
        my $first;
        for my $item (@$c) {
            return envelope(1201, 'contents[].type is invalid')
                unless ref $item eq 'HASH' && _str($item->{type})
                       && $item->{type} =~
                          /^(prompt|first_frame|last_frame|element)$/;
            if ($item->{type} eq 'prompt') {
                return envelope(1201, 'contents[].text is required')
                    unless _str($item->{text}) && length $item->{text};
                $prompt = $item->{text};
            } elsif ($item->{type} eq 'first_frame') {
                return envelope(1201, 'contents[].url is required')
                    unless _str($item->{url}) && length $item->{url};
                $first = 1;
            }
        }
        return envelope(1201, 'first_frame is required') unless $first;
    } else {
        return envelope(1201, 'prompt is required')
            unless _str($b->{prompt}) && length $b->{prompt};
        $prompt = $b->{prompt};
    }

    my $s = $b->{settings} // {};
    return envelope(1201, 'settings is invalid') unless ref $s eq 'HASH';

    for my $k (keys %$s) {
        return envelope(1201, "Invalid parameter: settings.$k")
            unless $k =~ ($i2v ? qr/^(audio|resolution|duration|multi_shot)$/
                               : qr/^(audio|resolution|aspect_ratio|duration|
                                      multi_shot)$/x);
    }

    return envelope(1201, 'settings.resolution is invalid')
        if exists $s->{resolution}
           && !(_str($s->{resolution})
                && $s->{resolution} =~ ($model =~ /3\.0/ ? qr/^(720p|1080p|4k)$/
                                                         : qr/^(720p|1080p)$/));
    return envelope(1201, 'settings.aspect_ratio is invalid')
        if exists $s->{aspect_ratio}
           && !(_str($s->{aspect_ratio})
                && $s->{aspect_ratio} =~ /^(16:9|9:16|1:1)$/);

    if (exists $s->{duration}) {
        return envelope(1201, 'settings.duration must be an integer')
            unless _is_number($s->{duration});
        return envelope(1201, "settings.duration $s->{duration} is not "
                        . "supported by $model")
            unless grep { $_ == $s->{duration} } _durations($model);
    }

    return envelope(1301, 'Failure to pass the risk control system')
        if $prompt =~ /\[unsafe\]/;

    my $task = $self->new_task(api => 'key', kind => $kind, model => $model,
                               prompt => $prompt);

    return [200, {}, { code => 0, message => 'SUCCEED',
                       request_id => "req-$task->{id}",
                       data => { id => $task->{id}, status => 'submitted',
                                 create_time => $task->{created},
                                 update_time => $task->{created} } }];
}

sub tasks {
    my ($self, $req) = @_;

    if (my $e = $self->key_error($req)) { return $e }
    if (my $e = $self->code_fault) { return $e }

    my $ids = $req->{query}{task_ids};
    return envelope(1201, 'task_ids or external_task_ids is required')
        unless defined $ids && length $ids;

    my @data;
    for my $id (split /,/, $ids) {
        my $task = $self->{tasks}{$id};
        next unless $task && $task->{api} eq 'key';

        my $s = $self->step($task);
        $s = 'succeeded' if $s eq 'succeed';

        my %item = (id => $id, status => $s, message => '',
                    create_time => $task->{created},
                    update_time => int(time * 1000), external_id => '');

        if ($s eq 'succeeded') {
            $item{outputs} = [ { type => 'video', id => "v$id",
                                 url => $self->url . "/cdn/v$id.mp4",
                                 watermark_url => $self->url
                                                  . "/cdn/w$id.mp4",
                                 duration => '5.041' } ];
            $item{billing} = [ { charge_type => 'unit', amount => '3',
                                 package_type => 'video' } ];
        } elsif ($s eq 'failed') {
            $item{message} = 'Failure to pass the risk control system';
        }

        push @data, \%item;
    }

    return [200, {}, { code => 0, message => 'SUCCEED',
                       request_id => 'req-tasks', data => \@data }];
}

sub cdn {
    my ($self, $req, $name) = @_;
    (my $id = $name) =~ s/^[vw]//;
    return [404, { 'Content-Type' => 'text/plain' }, 'no such video']
        unless $self->{tasks}{$id};
    return [200, { 'Content-Type' => 'video/mp4' },
            "MOCK-KLING-MP4-$id-" . ('k' x 1000)];
}

# the tokens the mock accepted, oldest first
sub tokens { $_[0]->_ctl('GET', 'tokens') }

sub control {
    my ($self, $what, $req) = @_;
    return [200, {}, $self->{tokens}] if $what eq 'tokens';
    if ($what eq 'reset') {
        $self->{tokens} = [];
    }
    return $self->SUPER::control($what, $req);
}

1;
