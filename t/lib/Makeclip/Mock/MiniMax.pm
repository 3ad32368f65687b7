package Makeclip::Mock::MiniMax;

# MiniMax's v1 video API (Hailuo), as its API reference and its MCP server
# use it:
#
#   POST /v1/video_generation                  {model, prompt, duration
#                                              (an integer: 6 or 10),
#                                              resolution ("512P" for
#                                              images, "720P" on the 01
#                                              models, "768P", "1080P" at
#                                              6 s only), first_frame_image
#                                              (URL or data: URL),
#                                              prompt_optimizer and
#                                              fast_pretreatment (booleans),
#                                              callback_url, aigc_watermark}
#                                              -> {task_id, base_resp}
#   GET  /v1/query/video_generation?task_id=   Preparing -> Queueing ->
#                                              Processing -> Success
#                                              (file_id) or Fail
#   GET  /v1/files/retrieve?file_id=           {file{file_id, bytes,
#                                              created_at, filename,
#                                              purpose, download_url},
#                                              base_resp}
#   GET  /download/{file_id}.mp4               the video (a signed CDN
#                                              URL at MiniMax: no key)
#
# Bearer key.  Like MiniMax, the mock answers HTTP 200 for most failures
# with base_resp.status_code != 0: 1004 for a missing or wrong key, 2013
# for invalid parameters, 1026 for a sensitive prompt ("[unsafe]").  A
# prompt with "[fail]" ends Fail with 1027.  Faults: besides the base
# class's, "base:N" answers HTTP 200 with base_resp code N.

use strict;
use warnings;
use parent 'Makeclip::Mock';

use B;
use Time::HiRes qw(time);

my %MSG = (1000 => 'unknown error', 1002 => 'rate limit exceeded',
           1004 => 'login fail: Please carry the API secret key in the '
                   . "'Authorization' field of the request header",
           1008 => 'insufficient balance', 1026 => 'input new_sensitive',
           1027 => 'output new_sensitive', 1039 => 'token limit',
           2013 => 'invalid params', 2049 => 'invalid api key');

# model => resolutions (text; images add 512P where listed)
my %MODELS = (
    'MiniMax-Hailuo-2.3' => [qw(768P 1080P)],
    'MiniMax-Hailuo-2.3-Fast' => [qw(768P 1080P)],
    'MiniMax-Hailuo-02' => [qw(768P 1080P)],
    'T2V-01' => ['720P'], 'T2V-01-Director' => ['720P'],
    'I2V-01' => ['720P'], 'I2V-01-Director' => ['720P'],
    'I2V-01-live' => ['720P'],
);

my %FIELDS = map { $_ => 1 } qw(model prompt duration resolution
    first_frame_image last_frame_image prompt_optimizer fast_pretreatment
    callback_url aigc_watermark subject_reference);

my @WORDS = qw(Preparing Queueing Processing);

sub routes {
    return [
        ['POST', qr{^/v1/video_generation$}, \&create, 'create'],
        ['GET', qr{^/v1/query/video_generation$}, \&query, 'status'],
        ['GET', qr{^/v1/files/retrieve$}, \&retrieve, 'file'],
        ['GET', qr{^/download/(\d+)\.mp4$}, \&download, 'content'],
    ];
}

sub base_resp {
    my ($code, $msg, %more) = @_;
    return [200, { 'Trace-Id' => sprintf('%032x', int(rand(2**31))) },
            { %more, base_resp => { status_code => $code + 0,
                                    status_msg => $msg // $MSG{$code}
                                                  // 'error' } }];
}

sub fault_body {
    my ($self, $status) = @_;
    return { base_resp => { status_code => 1000,
                            status_msg => "mock fault $status" } };
}

sub take_fault {
    my ($self, $op) = @_;
    my $f = $self->SUPER::take_fault($op);
    if (defined $f && $f =~ /^base:(\d+)$/) {
        $self->{base_fault} = $1;
        return undef;
    }
    return $f;
}

sub auth_error {
    my ($self, $req) = @_;
    my $auth = $req->{headers}{authorization} // '';
    return base_resp(1004) unless $auth eq "Bearer $self->{key}";
    if (defined(my $code = delete $self->{base_fault})) {
        return base_resp($code);
    }
    return undef;
}

sub _is_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK);
}

sub _str { defined $_[0] && !ref $_[0] && !_is_number($_[0]) }

sub _bool { ref $_[0] && JSON::PP::is_bool($_[0]) }

sub create {
    my ($self, $req) = @_;

    if (my $e = $self->auth_error($req)) { return $e }

    my $b = $req->{json};
    return base_resp(2013, 'invalid params, body is not JSON', task_id => '')
        unless ref $b eq 'HASH';

    for my $k (keys %$b) {
        return base_resp(2013, "invalid params, unknown field $k",
                         task_id => '')
            unless $FIELDS{$k};
    }

    my $model = $b->{model};
    return base_resp(2013, 'invalid params, model', task_id => '')
        unless _str($model) && $MODELS{$model};

    my $image = $b->{first_frame_image};
    if (defined $image) {
        return base_resp(2013, 'invalid params, first_frame_image',
                         task_id => '')
            unless _str($image)
                   && ($image =~ m{^https?://}
                       || $image =~ m{^data:image/(jpeg|png|webp);base64,
                                      [A-Za-z0-9+/]+={0,2}$}x);
    }

    return base_resp(2013, 'invalid params, prompt', task_id => '')
        unless (!defined $b->{prompt} && defined $image)
               || (_str($b->{prompt}) && length $b->{prompt} <= 2000);

    my $dur = $b->{duration} // 6;
    return base_resp(2013, 'invalid params, duration must be an integer',
                     task_id => '')
        if exists $b->{duration} && !_is_number($b->{duration});
    return base_resp(2013, "invalid params, duration $dur", task_id => '')
        unless $dur == 6 || ($dur == 10 && $model =~ /Hailuo/);

    my @res = @{ $MODELS{$model} };
    push @res, '512P' if defined $image && $model eq 'MiniMax-Hailuo-02';
    my $res = $b->{resolution} // $res[0];
    return base_resp(2013, "invalid params, resolution $res is not "
                     . "supported by $model", task_id => '')
        unless _str($res) && grep { $_ eq $res } @res;
    return base_resp(2013, 'invalid params, 1080P supports 6 s only',
                     task_id => '')
        if $res eq '1080P' && $dur != 6;

    for my $k (qw(prompt_optimizer fast_pretreatment aigc_watermark)) {
        return base_resp(2013, "invalid params, $k must be a boolean",
                         task_id => '')
            if exists $b->{$k} && !_bool($b->{$k});
    }

    return base_resp(1026, undef, task_id => '')
        if ($b->{prompt} // '') =~ /\[unsafe\]/;

    my $id = sprintf '1069161122%05d', ++$self->{seq};
    $self->{tasks}{$id} = {
        id => $id, polls => 0, model => $model,
        outcome => ($b->{prompt} // '') =~ /\[fail\]/ ? 'fail' : undef,
    };

    return base_resp(0, 'success', task_id => $id);
}

sub query {
    my ($self, $req) = @_;

    if (my $e = $self->auth_error($req)) { return $e }

    my $id = $req->{query}{task_id} // '';
    my $task = $self->{tasks}{$id}
        or return base_resp(2013, 'invalid params, task_id');

    my $word = $task->{final};

    if (!$word) {
        # every word in turn, then the end
        my $n = $task->{polls}++;
        if ($n < @WORDS && $n < $self->{steps}) {
            $word = $WORDS[$n];
        } else {
            my $o = $task->{outcome} // $self->{outcome};
            $word = $task->{final} = $o eq 'fail' ? 'Fail' : 'Success';
            $task->{file_id} = '2052585263' . substr($id, -5)
                if $word eq 'Success';
        }
    }

    if ($word eq 'Fail') {
        return base_resp(1027, undef, task_id => $id, status => 'Fail',
                         file_id => '');
    }

    return base_resp(0, 'success', task_id => $id, status => $word,
                     file_id => $task->{file_id} // '',
                     $word eq 'Success' ? (video_width => 1920,
                                           video_height => 1080) : ());
}

sub retrieve {
    my ($self, $req) = @_;

    if (my $e = $self->auth_error($req)) { return $e }

    my $fid = $req->{query}{file_id} // '';
    my ($task) = grep { ($_->{file_id} // '') eq $fid }
                 values %{$self->{tasks}};

    return base_resp(2013, 'invalid params, file_id') unless $task;

    return base_resp(0, 'success', file => {
        file_id => $fid + 0, bytes => 1016, created_at => int(time),
        filename => 'output.mp4', purpose => 'video_generation',
        download_url => $self->url . "/download/$fid.mp4" });
}

sub download {
    my ($self, $req, $fid) = @_;
    my ($task) = grep { ($_->{file_id} // '') eq $fid }
                 values %{$self->{tasks}};
    return [404, { 'Content-Type' => 'text/plain' }, 'NoSuchKey']
        unless $task;
    return [200, { 'Content-Type' => 'video/mp4' },
            "MOCK-HAILUO-MP4-$fid-" . ('h' x 1000)];
}

1;
