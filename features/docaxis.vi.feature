# language: vi
@DOCAXIS
Tính năng: Văn bản điện tử trên Trục liên thông văn bản quốc gia
  Mọi mã định danh cơ quan của tỉnh được công bố trên trục; văn bản gửi tới từng xã được xác nhận
  bằng gói tin trạng thái; những gì tỉnh gửi là edXML hợp lệ.

  @DOCAXIS-1
  Kịch bản: Mọi mã định danh cơ quan của tỉnh được công bố trên trục
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Thì danh bạ của trục có Ủy ban nhân dân tỉnh, các sở và mọi xã

  @DOCAXIS-2
  Kịch bản: Văn bản của một bộ gửi tới mọi xã được chọn được xác nhận
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi một bộ gửi một văn bản tới mọi xã được chọn của tỉnh
    Thì mỗi xã trả lời bằng gói tin trạng thái 03 (đã tiếp nhận) và 06 (hoàn thành)

  @DOCAXIS-3
  Kịch bản: Những gì tỉnh gửi trên trục là edXML hợp lệ
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi Ủy ban nhân dân tỉnh gửi một văn bản tới một bộ
    Thì bộ nhận được một gói tin edXML hợp lệ, ghi đúng tên cơ quan gửi và tên bộ, với trích yếu đã gửi

  @DOCAXIS-4 @negative
  Kịch bản: Gói tin không hợp lệ hoặc không gửi cho cơ quan nhận bị từ chối
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi trục chuyển gói tin thật và các gói tin không phải edXML hợp lệ hoặc không gửi cho cơ quan nhận chúng
    Thì hệ thống của tỉnh chỉ tiếp nhận gói tin thật, và không có gì khác thay đổi

  @DOCAXIS-5 @negative
  Kịch bản: Gói tin trạng thái về văn bản chưa từng gửi hoặc của cơ quan khác, từ nơi không nhận hoặc với mã lạ không làm thay đổi gì
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Khi một xã của tỉnh gửi một văn bản tới hai bộ, rồi các gói tin trạng thái thật của hai bộ và các gói tin sai đến
    Thì hệ thống của tỉnh chỉ ghi nhận các gói tin trạng thái thật, từ chối các gói tin sai, và không có gì khác thay đổi

  @DOCAXIS-6
  Kịch bản: Trục không từ chối yêu cầu nào của tỉnh
    Cho hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia
    Thì trục không từ chối yêu cầu nào hệ thống của tỉnh gửi trong suốt lượt chạy
